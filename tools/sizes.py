"""Function and module sizes of a package (a habit, not a rule: ~60-line functions, ~500-line modules).

    python tools/sizes.py [idfy] [--function-lines 60] [--module-lines 500]

Prints the modules and functions over the limits, longest first; a long one should say why in a comment.
"""

from __future__ import annotations

import argparse
import ast
from pathlib import Path


def scan(
    root: Path, function_lines: int, module_lines: int
) -> tuple[int, list[tuple[int, str]], list[tuple[int, str]]]:
    """(number of modules, long modules, long functions), each list as (lines, name) longest first."""
    files = sorted(root.rglob("*.py"))
    modules: list[tuple[int, str]] = []
    functions: list[tuple[int, str]] = []
    for path in files:
        text = path.read_text(encoding="utf-8")
        if (n := len(text.splitlines())) > module_lines:
            modules.append((n, str(path)))
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > function_lines:
                    functions.append((length, f"{path}:{node.name}"))
    return len(files), sorted(modules, reverse=True), sorted(functions, reverse=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", nargs="?", default="idfy", type=Path)
    parser.add_argument("--function-lines", type=int, default=60)
    parser.add_argument("--module-lines", type=int, default=500)
    args = parser.parse_args()
    count, modules, functions = scan(args.root, args.function_lines, args.module_lines)
    print(
        f"{count} modules; over {args.module_lines} lines: {len(modules)}; "
        f"functions over {args.function_lines} lines: {len(functions)}"
    )
    for lines, name in modules:
        print(f"  module   {lines:5d}  {name}")
    for lines, name in functions:
        print(f"  function {lines:5d}  {name}")


if __name__ == "__main__":
    main()
