"""The projections of this package, in the order they are run and listed."""

from __future__ import annotations

from .accesses import AccessesProjection
from .breaches import BreachesProjection
from .consent import ConsentProjection
from .disclosures import DisclosuresProjection
from .mechanism import Projection
from .requests import RequestsProjection
from .retention import RetentionProjection

__all__ = ["NAMES", "all_projections"]


def all_projections() -> list[Projection]:
    return [ConsentProjection(), RetentionProjection(), RequestsProjection(),
            BreachesProjection(), DisclosuresProjection(), AccessesProjection()]


NAMES = tuple(p.name for p in all_projections())
