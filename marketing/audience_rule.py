"""The audience rule: which customers a campaign reaches, as validated JSON.

A rule is a small JSON object (stored on Campaign.audience), every key optional:

    {"segments": ["at_risk"], "stages": ["customer"], "tags": [3, 7], "regions": ["Guangdong"],
     "key_accounts_only": true, "ltv_min": "100.00", "ltv_max": null,
     "alive_min": 0.2, "alive_max": 0.9, "purchased_within_days": 90, "points_min": 500,
     "tiers": [2, 3]}

Criteria combine with AND; the values inside one list with OR. This module parses and
checks a rule and imports no models, so the Campaign model validates its audience with it;
marketing.audience turns a rule into the customers it matches.
"""

from dataclasses import asdict, dataclass, field
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from analytics.choices import Segment
from customers.choices import CustomerStage

MAX_LIST = 100
MAX_DAYS = 36500
MAX_LTV = Decimal("999999999999.99")


@dataclass(frozen=True)
class AudienceRule:
    segments: list[str] = field(default_factory=list)
    stages: list[str] = field(default_factory=list)
    tags: list[int] = field(default_factory=list)
    regions: list[str] = field(default_factory=list)
    key_accounts_only: bool = False
    ltv_min: Decimal | None = None
    ltv_max: Decimal | None = None
    alive_min: float | None = None
    alive_max: float | None = None
    purchased_within_days: int | None = None
    points_min: int | None = None  # loyalty balance at least this
    tiers: list[int] = field(default_factory=list)  # loyalty tier ids, as last refreshed

    @classmethod
    def from_dict(cls, data: object) -> "AudienceRule":
        """Validate stored or posted JSON; unknown keys and bad values are refused."""
        if data in (None, ""):
            data = {}
        if not isinstance(data, dict):
            raise ValidationError(_("The audience must be a set of criteria."))
        unknown = set(data) - set(cls.__dataclass_fields__)
        if unknown:
            raise ValidationError(
                _("Unknown audience criteria: %(keys)s") % {"keys": ", ".join(sorted(unknown))}
            )
        rule = cls(
            segments=_choices(data.get("segments"), Segment.values, _("segment")),
            stages=_choices(data.get("stages"), CustomerStage.values, _("lifecycle stage")),
            tags=_ids(data.get("tags")),
            regions=_texts(data.get("regions")),
            key_accounts_only=_bool(data.get("key_accounts_only")),
            ltv_min=_decimal(data.get("ltv_min")),
            ltv_max=_decimal(data.get("ltv_max")),
            alive_min=_probability(data.get("alive_min")),
            alive_max=_probability(data.get("alive_max")),
            purchased_within_days=_days(data.get("purchased_within_days")),
            points_min=_points(data.get("points_min")),
            tiers=_ids(data.get("tiers"), _("Loyalty tiers")),
        )
        rule.check_ranges()
        return rule

    def check_ranges(self) -> None:
        if self.ltv_min is not None and self.ltv_max is not None and self.ltv_min > self.ltv_max:
            raise ValidationError(_("The lowest predicted value is above the highest."))
        low, high = self.alive_min, self.alive_max
        if low is not None and high is not None and low > high:
            raise ValidationError(_("The lowest probability alive is above the highest."))

    def to_dict(self) -> dict[str, object]:
        """JSON for storage: only the criteria that are set, decimals as strings."""
        data = {}
        for key, value in asdict(self).items():
            if value in (None, [], False):
                continue
            data[key] = str(value) if isinstance(value, Decimal) else value
        return data

    @property
    def uses_analytics(self) -> bool:
        return bool(self.segments) or any(
            v is not None for v in (self.ltv_min, self.ltv_max, self.alive_min, self.alive_max)
        )


def _choices(value: object, allowed: list[str], label: str) -> list[str]:
    values = _texts(value)
    bad = [v for v in values if v not in allowed]
    if bad:
        raise ValidationError(
            _("Unknown %(label)s: %(values)s") % {"label": label, "values": ", ".join(bad)}
        )
    return sorted(set(values))


def _texts(value: object) -> list[str]:
    if value in (None, ""):
        return []
    if not isinstance(value, list) or len(value) > MAX_LIST:
        raise ValidationError(_("A list of at most %(n)s values is expected.") % {"n": MAX_LIST})
    texts = []
    for item in value:
        if not isinstance(item, str) or "\x00" in item or len(item) > 100:
            raise ValidationError(_("Each value must be a text of at most 100 characters."))
        if item.strip():
            texts.append(item.strip())
    return texts


def _ids(value: object, label: str | None = None) -> list[int]:
    if value in (None, ""):
        return []
    if not isinstance(value, list) or len(value) > MAX_LIST:
        raise ValidationError(_("A list of at most %(n)s values is expected.") % {"n": MAX_LIST})
    if any(isinstance(v, bool) or not isinstance(v, int) or not 0 < v < 2**63 for v in value):
        raise ValidationError(
            _("%(label)s must be given by their ids.") % {"label": label or _("Tags")}
        )
    return sorted(set(value))


def _bool(value: object) -> bool:
    if value in (None, ""):
        return False
    if not isinstance(value, bool):
        raise ValidationError(_("“Key accounts only” must be true or false."))
    return value


def _decimal(value: object) -> Decimal | None:
    if value in (None, ""):
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
        raise ValidationError(_("Enter the predicted value as a number."))
    try:
        number = Decimal(str(value))
    except InvalidOperation as error:
        raise ValidationError(_("Enter the predicted value as a number.")) from error
    if not number.is_finite() or not 0 <= number <= MAX_LTV:
        raise ValidationError(_("Enter a predicted value between 0 and 999,999,999,999.99."))
    return number.quantize(Decimal("0.01"))


def _probability(value: object) -> float | None:
    if value in (None, ""):
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValidationError(_("Enter the probability alive as a number between 0 and 1."))
    if not 0 <= value <= 1:
        raise ValidationError(_("Enter the probability alive as a number between 0 and 1."))
    return float(value)


def _days(value: object) -> int | None:
    if value in (None, ""):
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_DAYS:
        raise ValidationError(_("Enter a number of days between 1 and 36500."))
    return value


def _points(value: object) -> int | None:
    if value in (None, ""):
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 10**9:
        raise ValidationError(_("Enter a number of loyalty points between 1 and 1,000,000,000."))
    return value
