# Rewrites a .cu (or .cuh) for the host emulator (emu.h): kernel<<<cfg>>>(args) ->
# emu::launch(<lambda calling kernel, so template arguments are deduced as in CUDA>, cfg)(args); __shared__ variables become function statics (one block runs at a time, so a static is
# the block's shared memory); extern __shared__ arrays refer to the emulator's arena.
import re, sys
src = open(sys.argv[1]).read()
src = re.sub(r'__launch_bounds__\([^)]*\)', '', src)
src = src.replace('#include <mma.h>', '')
src = re.sub(r'#include <cub/[^>]*>', '// (CUB: host stand-ins in emu.h)', src)
src = src.replace('#include <cuda/std/limits>', '#include <limits>').replace('::cuda::std::', '::std::')
src = src.replace('extern __shared__', 'extern')
# __shared__ arrays: statics registered with the emulator, which fills them with 0xff bytes (NaN for
# floats, -1 for integers) before every block, so a read of shared memory no thread of the block
# wrote shows up instead of seeing what the previous block left there.
src = re.sub(r'\b__shared__\s+([^;]*?)\b(\w+)\s*((?:\[[^\]]*\])+)\s*;',
             lambda m: 'static %s%s%s; [[maybe_unused]] static const bool emu_shared_%s = ::emu::register_shared(%s, sizeof(%s));'
             % (m.group(1), m.group(2), m.group(3), m.group(2), m.group(2), m.group(2)), src)
src = re.sub(r'\b__shared__\s+', 'static ', src)
src = re.sub(r'([A-Za-z_][\w:]*(?:<[\w, :.]+>)?)<<<(.*?)>>>', lambda m: '::emu::launch([=](auto... emu_args) { %s(emu_args...); }, %s)' % (m.group(1), m.group(2)), src, flags=re.S)
if '<<<' in src or '__shared__' in src:
    sys.exit('rewrite.py: %s: a launch or __shared__ was not rewritten' % sys.argv[1])
open(sys.argv[2], 'w').write(src)
