from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, jsonify, render_template
from flask.typing import ResponseReturnValue

from matchmaker.announcements.services import latest_announcements
from matchmaker.core.auth import public
from matchmaker.core.caching import for_visitors, shared_fragment
from matchmaker.extensions import db
from matchmaker.listings.search import listings_by_ids, newest_challenge_ids, open_counts_by_theme
from matchmaker.matching.rules import RULES
from matchmaker.organisations.models import KIND_LABELS
from matchmaker.organisations.services import directory_counts
from matchmaker.proposals.models import STATUS_HELP, ProposalStatus
from matchmaker.proposals.showcase import (
    figures_by_country,
    figures_by_territory,
    shown_partnerships,
)
from matchmaker.territories.services import all_territories

bp = Blueprint("core", __name__)


@bp.get("/")
@public
@for_visitors
def home() -> ResponseReturnValue:
    figures, figures_by_place = shared_fragment("figures-by-country", figures_by_country)
    return render_template(
        "core/home.html",
        figures=figures,
        figures_by_place=figures_by_place,
        figures_by_territory=shared_fragment("figures-by-territory", figures_by_territory),
        partnerships=shared_fragment("shown-partnerships", shown_partnerships),
        counts=shared_fragment("directory-counts", directory_counts),
        kind_labels=KIND_LABELS,
        theme_counts=shared_fragment("open-counts-by-theme", open_counts_by_theme),
        challenges=listings_by_ids(shared_fragment("newest-challenges", newest_challenge_ids)),
        announcements=latest_announcements(),
        territories=all_territories(),
    )


@bp.get("/help")
@public
def help_page() -> ResponseReturnValue:
    """How matching works and what each status means, from the rules and statuses themselves
    (one declaration each)."""
    return render_template(
        "core/help.html",
        rules=RULES.values(),
        statuses=[(status.label, STATUS_HELP[status]) for status in ProposalStatus],
    )


@bp.get("/privacy")
@public
def privacy() -> ResponseReturnValue:
    return render_template("core/privacy.html")


@bp.get("/healthz")
@public
def healthz() -> ResponseReturnValue:
    try:
        db.session.execute(sa.text("SELECT 1"))
    except sa.exc.SQLAlchemyError:
        db.session.rollback()
        return jsonify(status="unavailable", database="unreachable"), 503
    return jsonify(status="ok", database="ok")
