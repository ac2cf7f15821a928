"""Run a wasm32-unknown-unknown module: call one exported function, print `name(args) = result`.

Usage: wasm-invoke.py MODULE.wasm FUNCTION [INTEGER ...]
       wasm-invoke.py MODULE.wasm --type FUNCTION   (prints `name: (params) -> (results)`)
The module must not import anything (there is no host environment to satisfy it). `--type`
shows what the C ABI made of a function's parameters (a struct passed by value: its fields,
or one pointer), which is what a host has to pass.
"""

import sys

import wasmtime


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    path, function, *args = argv
    show_type = function == "--type" and len(args) == 1
    if show_type:
        function, args = args[0], []
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
    if show_type:
        kind = exports[function].type(store)
        params = ", ".join(str(t) for t in kind.params)
        results = ", ".join(str(t) for t in kind.results)
        print(f"{function}: ({params}) -> ({results})")
        return 0
    try:
        result = exports[function](store, *(int(a) for a in args))
    except wasmtime.WasmtimeError as error:  # e.g. the wrong number of parameters: say which
        print(f"cannot call {function}({', '.join(args)}): {error}", file=sys.stderr)
        return 5
    print(f"{function}({', '.join(args)}) = {result}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
