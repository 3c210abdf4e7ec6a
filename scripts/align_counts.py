"""Count the alignment's hand-written parts: lexicon entries, hard vetoes, regexes, metamorphic tests.

    python scripts/align_counts.py              # the working tree
    python scripts/align_counts.py --rev 1ab5052  # any commit (files read with ``git show REV:path``)
    python scripts/align_counts.py --tables     # add the count of each table

Read statically (``ast``), so any revision can be counted without importing it. Prints one JSON line.

What is counted:
- ``lexicon_entries``: the strings written into the word tables of ``oneprice/alignment/lexicon.py``
  (module-level tuples, lists, sets and dicts; a dict of word lists counts its words, not its keys; a
  dict from words to numbers counts its keys; a pair such as a synonym counts once). Tables built from
  other tables (a comprehension, a name) add nothing; a regex alternation inside a table counts each
  alternative ("win|wins|won" is three); regex strings outside a table are not counted.
- ``other_word_tables``: the same count over the word tables of ``contract.py``, ``features.py`` and
  ``fineprint.py`` (the facet lists excepted).
- ``hard_vetoes``: the facets in ``features.HARD_CONFLICTS`` (any one rules out "same proposition").
- ``soft_facets``: the facets in ``features.SOFT_FACETS`` (weighed by the model, no veto), where present.
- ``regexes``: ``re.compile`` calls in ``oneprice/alignment``.
- ``metamorphic_tests``: test functions in ``tests/alignment/test_metamorphic.py``, and
  ``metamorphic_cases`` with each parametrized one counted once per case.
"""

from __future__ import annotations

import argparse
import ast
import json
import subprocess
from pathlib import Path

ALIGN = "oneprice/alignment"
# The modules that read text (beside the lexicon), and tables there that name facets, not words.
READERS = ("contract", "features", "fineprint")
FACET_LISTS = frozenset({"HARD_CONFLICTS", "SOFT_FACETS"})
METAMORPHIC = "tests/alignment/test_metamorphic.py"
_COLLECTIONS = (ast.Dict, ast.Tuple, ast.List, ast.Set, ast.Call, ast.BinOp)


def _read(rev: str | None, path: str) -> str | None:
    if rev is None:
        p = Path(path)
        return p.read_text() if p.exists() else None
    out = subprocess.run(["git", "show", f"{rev}:{path}"], capture_output=True, text=True)
    return out.stdout if out.returncode == 0 else None


def _modules(rev: str | None) -> list[str]:
    if rev is None:
        return sorted(str(p) for p in Path(ALIGN).glob("*.py"))
    out = subprocess.run(
        ["git", "ls-tree", "--name-only", f"{rev}", f"{ALIGN}/"], capture_output=True, text=True
    )
    out.check_returncode()
    return sorted(p for p in out.stdout.split() if p.endswith(".py"))


def _is_str(n: ast.expr) -> bool:
    return isinstance(n, ast.Constant) and isinstance(n.value, str)


def _entries(n: ast.expr, inner: bool = False) -> int:
    """Strings written into the table ``n`` (see the module docstring)."""
    if _is_str(n):
        return len(str(n.value).split("|")) if inner else 1  # "win|wins|won": three words
    if isinstance(n, ast.Dict):
        total = 0
        for k, v in zip(n.keys, n.values, strict=True):
            numeric = isinstance(v, ast.Constant) and isinstance(v.value, int | float)
            total += 1 if numeric and k is not None else _entries(v, inner=True)
        return total
    if isinstance(n, ast.Tuple | ast.List | ast.Set):
        if inner and n.elts and all(isinstance(e, ast.Constant) for e in n.elts) and len(n.elts) == 2:
            return 1  # a pair: ("rate hike", "rate increase") or (2, r"runner-up")
        return sum(_entries(e, inner=True) for e in n.elts)
    if (
        isinstance(n, ast.Call)
        and isinstance(n.func, ast.Name)
        and n.func.id in {"frozenset", "set", "tuple"}
    ):
        return sum(_entries(a) for a in n.args)
    if isinstance(n, ast.BinOp):
        return _entries(n.left, inner) + _entries(n.right, inner)
    return 0  # a name, a comprehension, a number


def _table_name(t: ast.expr) -> str | None:
    if isinstance(t, ast.Name) and t.id.lstrip("_").isupper():
        return t.id
    if isinstance(t, ast.Subscript) and isinstance(t.value, ast.Name) and t.value.id.lstrip("_").isupper():
        return t.value.id
    return None


def word_tables(src: str) -> dict[str, int]:
    """Entries of each module-level word table in ``src``."""
    counts: dict[str, int] = {}
    for node in ast.parse(src).body:
        if isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign) and node.value is not None:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            value = node.value
            if not isinstance(value, _COLLECTIONS):
                continue
            if isinstance(value, ast.Call) and not (
                isinstance(value.func, ast.Name) and value.func.id in {"frozenset", "set", "tuple"}
            ):
                continue  # re.compile(...), a function's result
            for t in targets:
                name = _table_name(t)
                if name is not None:
                    n = _entries(value)
                    if n:
                        counts[name] = counts.get(name, 0) + n
    return counts


def _tuple_len(src: str, name: str) -> int | None:
    for node in ast.parse(src).body:
        targets = (
            node.targets
            if isinstance(node, ast.Assign)
            else [node.target]
            if isinstance(node, ast.AnnAssign)
            else []
        )
        for t in targets:
            if isinstance(t, ast.Name) and t.id == name and isinstance(node.value, ast.Tuple | ast.List):
                return len(node.value.elts)
    return None


def _regexes(src: str) -> int:
    return sum(
        1
        for n in ast.walk(ast.parse(src))
        if isinstance(n, ast.Call)
        and isinstance(n.func, ast.Attribute)
        and n.func.attr == "compile"
        and isinstance(n.func.value, ast.Name)
        and n.func.value.id == "re"
    )


def _metamorphic(src: str | None) -> tuple[int, int]:
    """(test functions, cases) in the metamorphic test module."""
    if src is None:
        return 0, 0
    tree = ast.parse(src)
    tests = cases = 0
    for node in tree.body:
        if not (isinstance(node, ast.FunctionDef) and node.name.startswith("test")):
            continue
        tests += 1
        n = 1
        for d in node.decorator_list:
            if isinstance(d, ast.Call) and isinstance(d.func, ast.Attribute) and d.func.attr == "parametrize":
                vals = d.args[1] if len(d.args) > 1 else None
                if isinstance(vals, ast.List | ast.Tuple):
                    n *= len(vals.elts)
                elif isinstance(vals, ast.Name):
                    n *= _tuple_len(src, vals.id) or 1
        cases += n
    return tests, cases


def counts(rev: str | None) -> tuple[dict[str, object], dict[str, dict[str, int]]]:
    tables: dict[str, dict[str, int]] = {}
    regexes = 0
    hard = soft = None
    for path in _modules(rev):
        src = _read(rev, path)
        if src is None:
            continue
        regexes += _regexes(src)
        t = word_tables(src)
        if t:
            tables[Path(path).stem] = t
        if path.endswith("/features.py"):
            hard, soft = _tuple_len(src, "HARD_CONFLICTS"), _tuple_len(src, "SOFT_FACETS")
    tests, cases = _metamorphic(_read(rev, METAMORPHIC))
    lex = tables.get("lexicon", {})
    out: dict[str, object] = {
        "rev": rev or "worktree",
        "lexicon_entries": sum(lex.values()),
        "other_word_tables": sum(
            n for m in READERS for k, n in tables.get(m, {}).items() if k not in FACET_LISTS
        ),
        "hard_vetoes": hard,
        "soft_facets": soft or 0,
        "regexes": regexes,
        "metamorphic_tests": tests,
        "metamorphic_cases": cases,
    }
    return out, tables


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rev", default=None, help="a git revision (default: the working tree)")
    ap.add_argument("--tables", action="store_true", help="add each table's count")
    args = ap.parse_args()
    out, tables = counts(args.rev)
    if args.tables:
        out["tables"] = tables
    print(json.dumps(out))


if __name__ == "__main__":
    main()
