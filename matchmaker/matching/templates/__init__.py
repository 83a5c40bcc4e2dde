"""The partnership templates the matcher looks for. Add a template by writing a module with a
:class:`~matchmaker.matching.templates.base.Template` subclass and listing it here, or a
partnership shape of a few slots by declaring it in ``named_shapes.py``."""

from __future__ import annotations

from matchmaker.matching.templates.base import Template
from matchmaker.matching.templates.consortium import Consortium
from matchmaker.matching.templates.knowledge_exchange_triad import KnowledgeExchangeTriad
from matchmaker.matching.templates.local_inclusion_partnership import LocalInclusionPartnership
from matchmaker.matching.templates.named_shapes import NAMED_SHAPES
from matchmaker.matching.templates.pair import PairTemplate

TEMPLATES: dict[str, Template] = {
    template.name: template
    for template in (
        PairTemplate(),
        KnowledgeExchangeTriad(),
        LocalInclusionPartnership(),
        *NAMED_SHAPES,
        Consortium(),
    )
}
