"""The partnership templates the matcher looks for. Add a template by writing a module with a
:class:`~matchmaker.matching.templates.base.Template` subclass and listing it here."""

from __future__ import annotations

from matchmaker.matching.templates.base import Template
from matchmaker.matching.templates.knowledge_exchange_triad import KnowledgeExchangeTriad
from matchmaker.matching.templates.local_inclusion_partnership import LocalInclusionPartnership
from matchmaker.matching.templates.pair import PairTemplate

TEMPLATES: dict[str, Template] = {
    template.name: template
    for template in (PairTemplate(), KnowledgeExchangeTriad(), LocalInclusionPartnership())
}
