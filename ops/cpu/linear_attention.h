// being written (linattn)
#pragma once
