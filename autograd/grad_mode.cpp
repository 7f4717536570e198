#include "autograd/grad_mode.h"

namespace ember {

static thread_local bool g_grad_enabled = true;
static thread_local bool g_anomaly_enabled = false;

bool GradMode::is_enabled() { return g_grad_enabled; }
void GradMode::set_enabled(bool enabled) { g_grad_enabled = enabled; }
bool AnomalyMode::is_enabled() { return g_anomaly_enabled; }
void AnomalyMode::set_enabled(bool enabled) { g_anomaly_enabled = enabled; }

}  // namespace ember
