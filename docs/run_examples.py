"""Run the Python examples of the documentation, so that they cannot drift from the code.

Every ```python block of each page is executed in order, in one namespace per page, from the
repository root. Usage (takes about a minute on two CPU cores, most of it the hERG fit):

    .venv/bin/python docs/run_examples.py                 # docs/getting-started.md
    .venv/bin/python docs/run_examples.py docs/PAGE.md ...
"""

import pathlib
import re
import sys
import time

_BLOCK = re.compile(r"^```python\n(.*?)^```", re.MULTILINE | re.DOTALL)


def run_page(path: pathlib.Path) -> None:
    blocks = _BLOCK.findall(path.read_text())
    if not blocks:
        raise SystemExit(f"run_examples: {path} has no ```python blocks")
    namespace = {"__name__": "__main__"}
    for i, source in enumerate(blocks, 1):
        start = time.perf_counter()
        code = compile(source, f"{path}, python block {i}", "exec")
        exec(code, namespace)
        print(f"-- {path} block {i}/{len(blocks)}: ok ({time.perf_counter() - start:.1f} s)")


def main(argv: list[str]) -> int:
    root = pathlib.Path(__file__).resolve().parent.parent
    pages = [pathlib.Path(p) for p in argv] or [root / "docs" / "getting-started.md"]
    for page in pages:
        run_page(page)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
