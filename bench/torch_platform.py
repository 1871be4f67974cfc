"""What the PyTorch twins run on, as one JSON line for a bench script's log: torch's version, the
CPU capability its own kernels dispatch to (ATEN_CPU_CAPABILITY can lower it), and the kernel
OpenBLAS picked for this processor (Debian's torch does its matrix products in OpenBLAS;
OPENBLAS_CORETYPE can override the pick)."""
import ctypes
import json

import torch


def blas_core():
    try:
        lib = ctypes.CDLL("libopenblas.so.0")
    except OSError:
        return None
    lib.openblas_get_corename.restype = ctypes.c_char_p
    return lib.openblas_get_corename().decode().strip()


capability = [line.split(":", 1)[1].strip() for line in torch.__config__.show().splitlines()
              if "CPU capability" in line]
print(json.dumps({"impl": "pytorch", "platform": True, "torch": torch.__version__,
                  "torch_cpu_capability": capability[0] if capability else None,
                  "blas_core": blas_core()}))
