"""Run a wasm32-unknown-unknown module: call one exported function, print `name(args) = result`.

Usage: wasm-invoke.py MODULE.wasm FUNCTION [INTEGER ...]
The module must not import anything (there is no host environment to satisfy it).
"""

import sys

import wasmtime


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    path, function, *args = argv
    engine = wasmtime.Engine()
    store = wasmtime.Store(engine)
    module = wasmtime.Module.from_file(engine, path)
    if module.imports:
        names = ", ".join(f"{i.module}.{i.name}" for i in module.imports)
        print(f"cannot run {path}: it imports {names}", file=sys.stderr)
        return 3
    exports = wasmtime.Instance(store, module, []).exports(store)
    if function not in exports:
        print(f"{path} exports no {function!r}; it exports: {', '.join(exports)}", file=sys.stderr)
        return 4
    result = exports[function](store, *(int(a) for a in args))
    print(f"{function}({', '.join(args)}) = {result}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
