"""Draw a "test this pattern" set: 10 practice questions across easy, medium and hard.

Example::

    qs = draw_pattern(load_course(), seed=0)   # 4 easy, 3 medium, 3 hard, easiest first
"""
from __future__ import annotations

import random

from .text import DIFFICULTIES

SIZE = 10
SPLIT = {"easy": 4, "medium": 3, "hard": 3}


def draw_pattern(lessons, seed=None, size: int = SIZE) -> list:
    """``size`` practice questions from all lessons, as even across difficulties as the pool allows."""
    rng = random.Random(seed)
    pool = {d: [q for les in lessons for q in les.practice if q.difficulty == d]
            for d in DIFFICULTIES}
    picked = {d: rng.sample(pool[d], min(SPLIT[d], len(pool[d]))) for d in DIFFICULTIES}
    rest = [q for d in DIFFICULTIES for q in pool[d] if q not in picked[d]]
    rng.shuffle(rest)
    for q in rest[:max(0, size - sum(map(len, picked.values())))]:
        picked[q.difficulty].append(q)
    return [q for d in DIFFICULTIES for q in picked[d]]
