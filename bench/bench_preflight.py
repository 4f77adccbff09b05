"""Accuracy of the preflight checker: generated shot lists, and hand-written natural prompts.

Runs the deterministic checker in-process (no MCP, no network) over
- `bench/preflight_cases.py` (synthetic): one planted rule per violation case, targeted near-miss controls
  per rule, and clean controls; precision and recall per rule (target >= 0.95 both);
- dev, TUNED ON: `bench/preflight_natural.py`, `bench/preflight_heldout.py` (the first held-out set,
  measured once and then used as development data) and `bench/preflight_dev2.py` (cases for the fixes
  that followed), hand-written prompts over one ferry production, and `bench/preflight_dev3.py` over a
  newsroom world and `bench/preflight_dev4.py` over a frontier town (written after the second held-out
  set, to find gaps elsewhere than the ferry without looking at the held-out cases);
- heldout, NEVER TUNED ON: `bench/preflight_heldout2.py`, hand-written prompts over another world (a night
  train), written before the round of fixes that followed; its misses are reported, not fixed one by one.
For the natural sets: precision, recall and false alarms per miss group (target precision >= 0.97, recall
>= 0.9). Must-not near-synonyms go through the shipped MiniLM embedder unless `--embedder none`.

    python -m bench.bench_preflight [--sets synthetic,dev,heldout] [--embedder minilm|none] [--show-errors]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.preflight_cases import Case, generate
from bench.preflight_natural import GROUPS, MUST_NOT, NaturalCase, world
from tools.continuity.ledger import Ledger
from tools.continuity.preflight import RULES, Similar, check_text


def run_case(case: Case) -> set[str]:
    findings = check_text(
        case.ledger,
        case.scene,
        case.shot.description,
        "description",
        shot=case.shot,
        scene_shots=case.scene_shots,
        must=case.must,
        must_not=case.must_not,
    )
    return {f.rule for f in findings}


# Phrasings written after the checker, not used to tune it: (scene, text, rules expected). Mara's jacket is
# red, her scar on the left cheek, her hair short and black; the map tears in scene 12.
HARD = [
    # A removal in any tense leaves the shot without the jacket the ledger says she wears (issue 9: removal
    # verbs in any tense); this case expected nothing while only perfect forms counted.
    ("5", "Mara shrugs off the burgundy anorak and hands it to Ode.", {"attribute_mismatch"}),
    ("5", "Mara's coat -- a deep cobalt -- is soaked through.", {"attribute_mismatch"}),
    ("5", "Mara turns her head; the right side of her face carries the old scar.", {"side_flip"}),
    ("5", "Her left cheek bears the scar as Mara turns.", set()),
    ("5", "Mara, whose hair now falls to her waist, watches the water.", {"attribute_mismatch"}),
    ("5", "Mara folds the map, its edge ripped.", {"state_too_early"}),
    ("5", "Mara studies the map, not yet torn.", set()),
    ("12", "Mara studies the torn map.", set()),
    ("5", "Ode wears a blue jacket; Mara, beside him, wears red.", set()),
    ("5", "A man in a blue coat shoves past Mara.", set()),
    ("5", "Mara's jacket glows blue under the police lights.", set()),
    ("5", "Mara walks the deck. Her jacket is yellow.", {"attribute_mismatch"}),
]


def run_hard() -> tuple[int, int]:
    from tools.continuity.ledger import Ledger
    from tools.continuity.models import Fact

    def fact(n: int, entity: str, attr: str, value: str, scene: str | None = None) -> Fact:
        return Fact(id=f"f{n}", entity=entity, attribute=attr, value=value, from_scene=scene, created_at="-")

    ledger = Ledger(
        "hard",
        kinds={"Mara": "character", "Ode": "character", "map": "prop"},
        facts=[
            fact(1, "Mara", "jacket", "red wool"),
            fact(2, "Mara", "scar", "left cheek"),
            fact(3, "Mara", "hair", "short black"),
            fact(4, "map", "state", "intact"),
            fact(5, "map", "state", "torn", "12"),
        ],
    )
    right = 0
    for scene, text, expected in HARD:
        fired = {f.rule for f in check_text(ledger, scene, text, "prompt")}
        ok = fired == expected
        right += ok
        if not ok:
            print(f"  hard case wrong: {text!r} expected {sorted(expected)} got {sorted(fired)}")
    return right, len(HARD)


# Fact rules name one kind of error (a ledger fact contradicted); which of them fires is how it is told.
FACT_RULES = {"attribute_mismatch", "state_too_early", "side_flip"}


def _kind(rules: set[str] | frozenset[str]) -> set[str]:
    return {"fact" if r in FACT_RULES else r for r in rules}


def run_natural(
    name: str,
    cases: list[NaturalCase],
    show_errors: bool,
    ledger: Ledger | None = None,
    must_not: list[str] | None = None,
    similar: Similar | None = None,
) -> tuple[float, float]:
    """Case-level figures: a violation is caught when a rule of the kind expected fires (the fact rules
    attribute_mismatch, state_too_early and side_flip are one kind); a false alarm is a control with any
    finding, or a violation case on which only other kinds of rules fire."""
    ledger = ledger or world()
    must_not = MUST_NOT if must_not is None else must_not
    tp, fn, fp = Counter[str](), Counter[str](), Counter[str]()
    n_viol, n_ctrl = Counter[str](), Counter[str]()
    extra = exact = 0
    lines: list[str] = []
    started = time.perf_counter()
    for c in cases:
        findings = check_text(ledger, c.scene, c.text, "prompt", must_not=must_not, similar=similar)
        fired = {f.rule for f in findings}
        detail = "; ".join(f"{f.rule}:{f.entity}:{f.found!r}" for f in findings)
        if c.expected:
            n_viol[c.group] += 1
            if _kind(fired) & _kind(c.expected):
                tp[c.group] += 1
                exact += bool(fired & c.expected)
                extra += bool(_kind(fired) - _kind(c.expected))
            else:
                fn[c.group] += 1
                lines.append(f"  MISS  [{c.group}] {c.scene}: {c.text!r} want {sorted(c.expected)} got {detail or '-'}")
                if fired:
                    fp[c.group] += 1
        else:
            n_ctrl[c.group] += 1
            if fired:
                fp[c.group] += 1
                lines.append(f"  FALSE [{c.group}] {c.scene}: {c.text!r} got {detail}")
    elapsed = time.perf_counter() - started
    total_tp, total_fp, total_fn = sum(tp.values()), sum(fp.values()), sum(fn.values())
    precision = total_tp / (total_tp + total_fp) if total_tp + total_fp else 1.0
    recall = total_tp / (total_tp + total_fn) if total_tp + total_fn else 1.0
    print(
        f"\n{name}: {len(cases)} cases ({sum(n_viol.values())} violations, {sum(n_ctrl.values())} controls), "
        f"{elapsed / max(1, len(cases)) * 1000:.2f} ms/case"
    )
    print(f"{'group':18} {'viol':>4} {'ctrl':>4} {'TP':>4} {'FN':>4} {'false':>5} {'recall':>7}")
    for group in GROUPS:
        if not n_viol[group] and not n_ctrl[group]:
            continue
        rec = tp[group] / n_viol[group] if n_viol[group] else 1.0
        print(
            f"{group:18} {n_viol[group]:4d} {n_ctrl[group]:4d} {tp[group]:4d} {fn[group]:4d} {fp[group]:5d} {rec:7.3f}"
        )
    print(
        f"{name} precision {precision:.3f}  recall {recall:.3f}  false alarms {total_fp}  "
        f"(caught with the exact rule expected: {exact}/{total_tp}; violations that also raised another "
        f"kind of rule: {extra})"
    )
    met = precision >= 0.97 and recall >= 0.9
    print(f"target precision >= 0.97 and recall >= 0.9: {'MET' if met else 'NOT MET'}")
    if show_errors:
        print("\n".join(lines))
    return precision, recall


def minilm_similar() -> Similar:
    """The shipped offline embedder (MiniLM from its wheel), as the server hands it to the preflight."""
    from tools.style.embedder import MiniLMEmbedder

    model = MiniLMEmbedder()
    cache: dict[str, list[float]] = {}

    def similar(texts: list[str]) -> list[list[float]]:
        todo = [t for t in dict.fromkeys(texts) if t not in cache]
        if todo:
            cache.update(zip(todo, model.embed_sync(todo), strict=True))
        return [cache[t] for t in texts]

    return similar


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--per-rule", type=int, default=60)
    parser.add_argument(
        "--sets",
        default="synthetic,dev,heldout",
        help="comma-separated: synthetic (tuned on), dev (tuned on), heldout (never tuned on)",
    )
    parser.add_argument(
        "--embedder",
        choices=("minilm", "none"),
        default="minilm",
        help="must-not near-synonyms by the shipped MiniLM (as the server runs), or by the lexicon only",
    )
    parser.add_argument("--show-errors", action="store_true")
    args = parser.parse_args()
    sets = {s.strip() for s in args.sets.split(",") if s.strip()}
    similar = minilm_similar() if args.embedder == "minilm" else None
    print(f"must-not near-synonyms: {'MiniLM embedder + lexicon' if similar else 'lexicon only'}")
    print("sets: synthetic = TUNED ON; dev = TUNED ON; heldout = HELD OUT (never tuned on)")
    if "synthetic" in sets:
        run_synthetic(args)
    if "dev" in sets:
        from bench.preflight_dev2 import CASES as DEV_C
        from bench.preflight_heldout import CASES as DEV_B
        from bench.preflight_natural import CASES as DEV_A

        # The first held-out set was measured once, then became development data (its misses were fixed).
        run_natural(
            "dev set [TUNED ON] (preflight_natural + preflight_heldout + preflight_dev2, ferry world)",
            [*DEV_A, *DEV_B, *DEV_C],
            args.show_errors,
            similar=similar,
        )
    if "dev" in sets:
        from bench import preflight_dev3, preflight_dev4

        for module, where in ((preflight_dev3, "newsroom"), (preflight_dev4, "frontier town")):
            run_natural(
                f"dev set [TUNED ON] ({module.__name__.split('.')[-1]}, {where} world)",
                module.CASES,
                args.show_errors,
                ledger=module.world(),
                must_not=module.MUST_NOT,
                similar=similar,
            )
    if "heldout" in sets:
        from bench import preflight_heldout2 as h2

        run_natural(
            "held-out set [HELD OUT, never tuned on] (preflight_heldout2, night-train world)",
            h2.CASES,
            args.show_errors,
            ledger=h2.world(),
            must_not=h2.MUST_NOT,
            similar=similar,
        )
    return 0


def run_synthetic(args: argparse.Namespace) -> None:
    cases = generate(args.seed, args.per_rule, args.per_rule, 2 * args.per_rule)
    tp, fp, fn = Counter[str](), Counter[str](), Counter[str]()
    errors: list[str] = []
    started = time.perf_counter()
    for case in cases:
        fired = run_case(case)
        for rule in RULES:
            planted = case.rule == rule
            if planted and rule in fired:
                tp[rule] += 1
            elif planted:
                fn[rule] += 1
                errors.append(f"MISS {rule} [{case.kind}] {case.shot.ref}: {case.shot.description!r}")
            elif rule in fired:
                fp[rule] += 1
                errors.append(
                    f"FALSE {rule} [{case.kind}] {case.shot.ref}: {case.shot.description!r} notes={case.shot.notes!r}"
                )
    elapsed = time.perf_counter() - started
    print(f"preflight accuracy: {len(cases)} cases (seed {args.seed}), {elapsed / len(cases) * 1000:.2f} ms/case")
    print(f"{'rule':24} {'planted':>7} {'TP':>4} {'FP':>4} {'FN':>4} {'precision':>9} {'recall':>7}")
    worst = 1.0
    for rule in RULES:
        n_planted = tp[rule] + fn[rule]
        precision = tp[rule] / (tp[rule] + fp[rule]) if tp[rule] + fp[rule] else 1.0
        recall = tp[rule] / n_planted if n_planted else 1.0
        worst = min(worst, precision, recall)
        print(f"{rule:24} {n_planted:7d} {tp[rule]:4d} {fp[rule]:4d} {fn[rule]:4d} {precision:9.3f} {recall:7.3f}")
    controls = [c for c in cases if c.rule is None]
    noisy = sum(1 for c in controls if run_case(c))
    print(f"controls with any finding: {noisy}/{len(controls)}")
    print(f"target >= 0.95 precision and recall per rule: {'MET' if worst >= 0.95 else 'NOT MET'} (worst {worst:.3f})")
    right, total = run_hard()
    print(f"hand-written hard phrasings (not tuned on): {right}/{total} exactly right")
    if args.show_errors:
        print("\n".join(errors[:80]))


if __name__ == "__main__":
    raise SystemExit(main())
