"""Accuracy of the preflight checker on generated shot lists with planted violations.

Runs the deterministic checker in-process (no MCP, no network) over `bench/preflight_cases.py`:
one planted rule per violation case, targeted near-miss controls per rule, and clean controls.
Prints precision and recall per rule (target >= 0.95 both) and the misses, for tuning.

    python bench/bench_preflight.py [--seed N] [--per-rule N] [--show-errors]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.preflight_cases import Case, generate
from tools.continuity.preflight import RULES, check_text


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
    ("5", "Mara shrugs off the burgundy anorak and hands it to Ode.", set()),
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--per-rule", type=int, default=60)
    parser.add_argument("--show-errors", action="store_true")
    args = parser.parse_args()
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
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
