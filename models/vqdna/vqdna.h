// being written (vqdna)
#pragma once
