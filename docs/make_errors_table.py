"""Write the table of docs/errors.md: every case of the malformed-input corpus and its message.

Runs the corpus of ``tests/test_corpus.py`` (through the Python API; command-line-only
cases through ``wbentropy.cli.main``) and the text-file cases of ``tests/test_w90text.py``,
and prints a Markdown table (case -> message, temporary folders shortened to ``.../``):

    python docs/make_errors_table.py > /tmp/table.md
"""
from __future__ import annotations

import contextlib
import io
import re
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from wbentropy.errors import InputError  # noqa: E402


def _message(call) -> str:
    try:
        call()
    except InputError as exc:
        return str(exc)
    except SystemExit:
        pass
    return "(no error)"


def _cli_message(argv) -> str:
    from wbentropy.cli import main

    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        _message(lambda: main(["compute", *argv]))
    return err.getvalue().strip().removeprefix("wbentropy: error: ")


def _clean(text: str, tmp: str) -> str:
    text = text.replace(tmp, "...").replace(str(ROOT) + "/", "")
    text = re.sub(r"/tmp/\S*?/", ".../", text)
    return text.replace("|", "\\|")


def main() -> None:
    import test_corpus as T
    import test_w90text as W
    from wb_reference import prepare_material

    rows = []
    with tempfile.TemporaryDirectory() as top:
        fe = prepare_material(folder="Fe_Wannier90", dest=Path(top) / "fe_data")
        for i, case in enumerate(T.CASES):
            tmp = Path(top) / f"c{i}"
            tmp.mkdir()
            call, argv = case.build(T.Ctx(tmp, fe))
            if call is not None:
                msg = _message(call)
            else:
                argv = argv + [a for k, v in (("--kmesh", ["4", "4", "1"]), ("--temperature", ["300"]),
                                              ("--out", [str(tmp / "o.h5")])) if k not in argv for a in [k, *v]]
                if "--mu" not in argv and "--mu-range" not in argv:
                    argv += ["--mu", "0"]
                msg = _cli_message(argv)
            route = "CLI" if call is None else ("CLI + API" if case.cli else "API")
            rows.append((case.name, route, _clean(msg, str(tmp))))
        for i, fn in enumerate(W.CASES):
            tmp = Path(top) / f"w{i}"
            tmp.mkdir()
            model, ndegen = W.toy_model()
            f = {"dir": tmp, "tb": tmp / "m_tb.dat", "hr": tmp / "m_hr.dat", "r": tmp / "m_r.dat",
                 "win": tmp / "m.win", "wsvec": tmp / "w_wsvec.dat", "model": model}
            W.write_tb(model=model, path=f["tb"], ndegen=ndegen)
            W.write_hr(model=model, hr_path=f["hr"], r_path=f["r"], win_path=f["win"], ndegen=ndegen)
            W.write_wsvec_text(f["wsvec"], model.R, 3, {})
            call, _, _ = fn(f)
            rows.append((fn.__name__[5:], "API (test_w90text)", _clean(_message(call), str(tmp))))
    print("| case | tested through | message (`wbentropy: error: ` + ...) |")
    print("|---|---|---|")
    for name, route, msg in rows:
        print(f"| `{name}` | {route} | {msg} |")


if __name__ == "__main__":
    main()
