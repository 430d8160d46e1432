"""Planted violations and near-misses, one function per supervision model.

Each function adds the records of one planted case (``kind`` = ``violation`` or
``near_miss``) to a :class:`~graphwatch.synth.chunk.Chunk` and registers its entities for
``ground_truth.csv``.  Persons used by a plant are marked: their IDs stay clean in every
source, their households get no background benefits or assets, and no other plant
reuses them, so one plant never completes another model's pattern by accident.
Relatives are always members of the anchor's own household (the anchor is its 户主), so
the kinship the household registry expresses is the kinship a pattern can find.

One module per group of models: :mod:`.contracts`, :mod:`.benefits`, :mod:`.police`;
:mod:`.picking` holds what they share. ``PLANTERS`` maps each model to its planter.
"""

from .benefits import (cadre_subsidy, deceased_beneficiary, duplicate_benefits, missing_coverage, payroll_on_welfare,
                       poor_with_assets, relative_beneficiary)
from .contracts import own_village_project, ratio_truth, related_bidders, relative_direct_award, split_contracts
from .police import gambling_with_regulated

__all__ = ["PLANTERS", "ratio_truth"]

PLANTERS = {
    "own_village_project": own_village_project,
    "relative_beneficiary": relative_beneficiary,
    "deceased_beneficiary": deceased_beneficiary,
    "payroll_on_welfare": payroll_on_welfare,
    "poor_with_assets": poor_with_assets,
    "gambling_with_regulated": gambling_with_regulated,
    "related_bidders": related_bidders,
    "cadre_subsidy": cadre_subsidy,
    "relative_direct_award": relative_direct_award,
    "missing_coverage": missing_coverage,
    "split_contracts": split_contracts,
    "duplicate_benefits": duplicate_benefits,
}
