# Rewrites a .cu for the host emulator: launches -> emu::launch, __shared__ -> static/extern.
import re, sys
src = open(sys.argv[1]).read()
src = re.sub(r'__launch_bounds__\([^)]*\)', '', src)
src = src.replace('#include <mma.h>', '')
src = src.replace('extern __shared__', 'extern')
src = re.sub(r'__shared__ (double|float)', r'static \1', src)
# kernel<T><<<cfg>>>(args) -> ::emu::launch(kernel<T>, cfg)(args)
src = re.sub(r'([A-Za-z_]\w*(?:<[\w, ]+>)?)<<<(.*?)>>>', lambda m: '::emu::launch(%s, %s)' % (m.group(1), m.group(2)), src, flags=re.S)
open(sys.argv[2], 'w').write(src)
