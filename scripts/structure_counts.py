"""Count the structure figures of issue 18 in a source tree (default: this repository).

- duplicated domain functions: for each domain concept below, the definitions beyond the first;
- venue-name branches in shared code: comparisons and membership tests against a venue's name (and
  set literals of venue names used to subtract or test) outside the venue-specific code
  (``ingest/parsers``, ``ingest/venues``) and the one description of venues (``core/venues.py``);
- service functions returning dicts: public functions of ``oneprice/services`` whose return
  annotation contains ``dict`` (``dict[...]`` or ``list[dict[...]]``).

    python scripts/structure_counts.py [--root DIR] [--list]

The last line is one JSON object with the three counts.
"""

from __future__ import annotations

import argparse
import ast
import json
import re
from pathlib import Path

VENUES = {"kalshi", "polymarket", "predictit", "manifold"}
VENUE_SPECIFIC = ("oneprice/ingest/parsers/", "oneprice/ingest/venues/", "oneprice/core/venues.py")

# concept -> (what it is, function-name pattern, unused); a definition that calls its concept's one
# definition (an adapter) is not counted as a copy
CONCEPTS: dict[str, tuple[str, str, str]] = {
    "complete_sets": ("the complete sets of a matched pair", r"complete_sets", ""),
    "outcome_complement": ("the other outcome of a binary market", r"other", ""),
    "venue_fee_model": ("picking a venue's taker fee schedule", r"fee_model|venue_cost", ""),
    "tick": ("a market's tick from what its venue reports", r"tick_of", ""),
    "book_walk": ("walking an order book level by level", r"walk|_walk|fills", ""),
    "set_pricing": ("pricing a complete set at the asks", r"walk_set|set_edges", ""),
    "row_to_market": ("a markets row to a domain Market", r"to_market|_market", ""),
}


def _defs(tree: ast.AST) -> list[ast.FunctionDef | ast.AsyncFunctionDef]:
    return [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]


def _returns_market(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    return fn.returns is not None and ast.unparse(fn.returns) == "Market"


def _takes_row(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    ann = [ast.unparse(a.annotation) for a in fn.args.args if a.annotation is not None]
    return any(a in ("MarketRow", "m.Market") for a in ann)


def _is_walk(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """A loop over book levels taking ``min(remaining, level.size)``."""
    src = ast.unparse(fn)
    return bool(re.search(r"min\((left|remaining), *(lv|lvl|level)\.size\)", src))


def domain_definitions(root: Path) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {k: [] for k in CONCEPTS}
    for path in sorted((root / "oneprice").rglob("*.py")):
        rel = path.relative_to(root).as_posix()
        if "/models/llm/" in rel:
            continue
        for fn in _defs(ast.parse(path.read_text())):
            where = f"{rel}:{fn.name}"
            for key, (_what, pattern, _f) in CONCEPTS.items():
                if not re.fullmatch(pattern, fn.name):
                    continue
                if key == "row_to_market" and not (_returns_market(fn) and _takes_row(fn)):
                    continue
                if key == "book_walk" and not _is_walk(fn):
                    continue
                if key == "outcome_complement" and "'No'" not in ast.unparse(fn):
                    continue
                if _delegates(fn, pattern):
                    continue  # a thin adapter over the one definition, not a second one
                found[key].append(where)
    return found


def _is_method(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    return bool(fn.args.args) and fn.args.args[0].arg == "self"


ALIASES = {"relation_sets", "row_to_market"}  # names the code imports a concept's one definition under


def _delegates(fn: ast.FunctionDef | ast.AsyncFunctionDef, pattern: str) -> bool:
    """Whether ``fn`` calls a definition of its own concept (another one, or under an import alias)."""
    for node in ast.walk(fn):
        if isinstance(node, ast.Call):
            f = node.func
            name = f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else ""
            own = name == fn.name and isinstance(f, ast.Name) and not _is_method(fn)  # recursion
            if name in ALIASES or (re.fullmatch(pattern, name) and not own):
                return True
    return False


def _venue_const(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in VENUES


def _venue_container(node: ast.AST) -> bool:
    return isinstance(node, ast.Set | ast.Tuple | ast.List) and any(_venue_const(e) for e in node.elts)


def venue_branches(root: Path) -> list[str]:
    out = []
    for path in sorted((root / "oneprice").rglob("*.py")):
        rel = path.relative_to(root).as_posix()
        if rel.startswith(VENUE_SPECIFIC) or "/models/llm/" in rel:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            hit = False
            if isinstance(node, ast.Compare):
                operands = [node.left, *node.comparators]
                hit = any(_venue_const(o) or _venue_container(o) for o in operands)
            elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Sub):
                hit = _venue_container(node.right)
            elif isinstance(node, ast.Assign) and _venue_container(node.value):
                hit = True  # a module constant such as PLAY_MONEY = {"manifold"}
            if hit:
                out.append(f"{rel}:{node.lineno}: {ast.unparse(node)[:80]}")
    return out


def dict_services(root: Path) -> list[str]:
    out = []
    for path in sorted((root / "oneprice" / "services").glob("*.py")):
        tree = ast.parse(path.read_text())
        for fn in tree.body:
            public = isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef) and not fn.name.startswith("_")
            if public and fn.returns is not None and re.search(r"\bdict\b", ast.unparse(fn.returns)):
                out.append(f"{path.relative_to(root).as_posix()}:{fn.name} -> {ast.unparse(fn.returns)}")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--root", type=Path, default=Path(__file__).resolve().parents[1])
    ap.add_argument("--list", action="store_true", help="List what was counted.")
    args = ap.parse_args()
    defs = domain_definitions(args.root)
    dup = {k: max(0, len(v) - 1) for k, v in defs.items()}
    branches = venue_branches(args.root)
    dicts = dict_services(args.root)
    if args.list:
        for k, v in defs.items():
            print(f"{k} ({CONCEPTS[k][0]}): {len(v)} definition(s): {', '.join(v)}")
        print(f"venue-name branches ({len(branches)}):", *branches, sep="\n  ")
        print(f"service functions returning dicts ({len(dicts)}):", *dicts, sep="\n  ")
    print(
        json.dumps(
            {
                "duplicated_domain_functions": sum(dup.values()),
                "duplicated_by_concept": {k: v for k, v in dup.items() if v},
                "venue_name_branches_in_shared_code": len(branches),
                "service_functions_returning_dicts": len(dicts),
            }
        )
    )


if __name__ == "__main__":
    main()
