"""Prints what a bench script's measurements ran on, from its JSON-lines log: the processor, the
instruction set tinyrec's build targets and OpenBLAS's kernel (from tinyrec's own lines), and
torch's CPU capability and BLAS kernel (from bench/torch_platform.py's line).
Usage: python3 bench/platform_summary.py LOG.jsonl"""
import json
import sys

rows = []
for line in open(sys.argv[1]):
    if line.startswith("{"):
        rows.append(json.loads(line))


def seen(key, pick):
    return sorted({str(r[key]) for r in rows if key in r and pick(r)})


ours = lambda r: r.get("impl", "tinyrec") != "pytorch"  # noqa: E731
theirs = lambda r: r.get("impl") == "pytorch"  # noqa: E731
print(f"processor:       {', '.join(seen('cpu', ours)) or 'unknown'} "
      f"(offers {', '.join(seen('cpu_isa', ours)) or '?'})")
print(f"tinyrec build:   {', '.join(seen('build_isa', ours)) or 'unknown'}; "
      f"OpenBLAS kernel {', '.join(seen('blas_core', ours)) or '?'}")
if any(theirs(r) for r in rows):
    print(f"PyTorch:         {', '.join(seen('torch', theirs)) or '?'}, CPU capability "
          f"{', '.join(seen('torch_cpu_capability', theirs)) or '?'}; OpenBLAS kernel "
          f"{', '.join(seen('blas_core', theirs)) or '?'}")
