#!/usr/bin/env python3
"""Interop check between Ember's safetensors files and the reference Python package.

  check_safetensors.py read FILE            load FILE (e.g. one Ember wrote) with `safetensors`
                                            and print names, dtypes, shapes, a sum and a CRC32
                                            of each tensor's bytes, and the metadata
  check_safetensors.py write FILE [--cpp]   write the interop tensors (every dtype Ember has)
                                            with `safetensors`; --cpp also prints the bytes as a
                                            C++ array literal (test/engine/test_serialize.cpp
                                            embeds one, so CI checks compatibility offline)

The interop tensors are defined once here (INTEROP_TENSORS) and mirrored in
test/engine/test_serialize.cpp (`interop_tensors()`), which loads what `write` produced and can
write the same set for `read` (`./build/test/test_engine "[.interop]"`).

`safetensors` and `numpy` are not Debian packages; use a throwaway venv:
  python3 -m venv /tmp/stvenv && /tmp/stvenv/bin/pip install safetensors numpy
  /tmp/stvenv/bin/python scripts/check_safetensors.py write /tmp/from_python.safetensors
Without them the script says so and exits 0 (it is a manual check, not a CI gate).
"""
import sys
import zlib

try:
    import numpy as np
    import safetensors
except ImportError as e:  # pragma: no cover - depends on the machine
    print(f"check_safetensors: skipped, the Python packages are missing ({e}).\n"
          "  python3 -m venv /tmp/stvenv && /tmp/stvenv/bin/pip install safetensors numpy\n"
          "  /tmp/stvenv/bin/python scripts/check_safetensors.py ...")
    sys.exit(0)


def _bf16_bytes(values):
    """bfloat16 = the upper half of float32; the values below are exact, so truncation is exact."""
    bits = np.asarray(values, dtype="<f4").view("<u4")
    assert np.all((bits & 0xFFFF) == 0), "interop bf16 values must be exactly representable"
    return (bits >> 16).astype("<u2").tobytes()


# name -> (safetensors dtype, shape, little-endian bytes). Values are exactly representable in
# their dtype so that both sides agree to the bit. Mirrored in test_serialize.cpp.
INTEROP_TENSORS = {
    "weight": ("F32", [2, 3], (np.arange(6, dtype="<f4") / 4 - 0.5).tobytes()),
    "double": ("F64", [3], np.array([1 / 3, -2.5, 1e300], dtype="<f8").tobytes()),
    "steps": ("I64", [2], np.array([-(2**62), 7], dtype="<i8").tobytes()),
    "ids": ("I32", [2, 2], np.array([-5, 2**31 - 1, 0, 42], dtype="<i4").tobytes()),
    "pixels": ("U8", [3], np.array([0, 255, 7], dtype="u1").tobytes()),
    "mask": ("BOOL", [3], np.array([True, False, True], dtype="?").tobytes()),
    "half": ("F16", [3], np.array([0.5, -65504.0, 2.0**-10], dtype="<f2").tobytes()),
    "brain": ("BF16", [2, 2], _bf16_bytes([1.5, -2.0, 0.15625, 2.0**100])),
    "empty": ("F32", [0, 4], b""),
}
INTEROP_METADATA = {"format": "pt"}

_NUMPY = {"F32": "<f4", "F64": "<f8", "I64": "<i8", "I32": "<i4", "U8": "u1", "BOOL": "?", "F16": "<f2"}
_SPEC_NAMES = {"F32": "float32", "F64": "float64", "I64": "int64", "I32": "int32", "U8": "uint8",
               "BOOL": "bool", "F16": "float16", "BF16": "bfloat16"}


def _values(dtype, data):
    """The tensor's values as float64 (bf16 widened through float32)."""
    if dtype == "BF16":
        return (np.frombuffer(data, dtype="<u2").astype("<u4") << 16).view("<f4").astype(np.float64)
    return np.frombuffer(data, dtype=_NUMPY[dtype]).astype(np.float64)


def _serialize(tensors, metadata):
    """Bytes from the package's own writer, across its two Python APIs."""
    if hasattr(safetensors, "TensorSpec"):  # safetensors >= 0.8: raw pointers
        keep = {name: np.frombuffer(data, dtype="u1").copy() for name, (_, _, data) in tensors.items()}
        specs = {name: safetensors.TensorSpec(dtype=_SPEC_NAMES[dt], shape=shape,
                                              data_ptr=keep[name].ctypes.data if len(data) else 0,
                                              data_len=len(data))
                 for name, (dt, shape, data) in tensors.items()}
        return bytes(safetensors.serialize(specs, metadata))
    specs = {name: {"dtype": _SPEC_NAMES[dt], "shape": shape, "data": data}  # older: bytes in dicts
             for name, (dt, shape, data) in tensors.items()}
    return bytes(safetensors.serialize(specs, metadata))


def cmd_read(path):
    with open(path, "rb") as f:
        raw = f.read()
    entries = safetensors.deserialize(raw)  # the reference parser validates the whole file
    with safetensors.safe_open(path, framework="numpy") as f:
        metadata = f.metadata()
    print(f"{path}: {len(entries)} tensors, metadata {metadata}")
    for name, info in sorted(entries):
        data = bytes(info["data"])
        values = _values(info["dtype"], data)
        print(f"  {name:10s} {info['dtype']:5s} {str(info['shape']):10s} sum={values.sum():.17g} "
              f"crc32={zlib.crc32(data):08x} values={values.tolist()}")
    mismatches = [name for name, info in entries
                  if name in INTEROP_TENSORS and
                  (INTEROP_TENSORS[name][0], INTEROP_TENSORS[name][1], INTEROP_TENSORS[name][2]) !=
                  (info["dtype"], list(info["shape"]), bytes(info["data"]))]
    known = [name for name, _ in entries if name in INTEROP_TENSORS]
    if known:
        print(f"interop tensors: {len(known) - len(mismatches)}/{len(known)} identical to INTEROP_TENSORS"
              + (f", MISMATCH: {mismatches}" if mismatches else ""))
    return 1 if mismatches else 0


def cmd_write(path, cpp):
    data = _serialize(INTEROP_TENSORS, INTEROP_METADATA)
    with open(path, "wb") as f:
        f.write(data)
    print(f"wrote {path}: {len(data)} bytes, safetensors {safetensors.__version__}")
    if cpp:
        hex_bytes = [f"0x{b:02x}" for b in data]
        lines = [", ".join(hex_bytes[i:i + 16]) for i in range(0, len(hex_bytes), 16)]
        print("const uint8_t kPythonBytes[] = {\n    " + ",\n    ".join(lines) + "};")
    return 0


def main(argv):
    if len(argv) >= 2 and argv[0] == "read":
        return cmd_read(argv[1])
    if len(argv) >= 2 and argv[0] == "write":
        return cmd_write(argv[1], "--cpp" in argv[2:])
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
