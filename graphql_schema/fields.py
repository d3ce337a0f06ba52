"""Fields that read a loaded row's columns without strawberry-django's resolver chain.

Relation fields (a study's reports) stay strawberry-django's own: ``optimize()``, called by the resolver that
loads the rows, plans their ``prefetch_related`` from the selection, and they then resolve from the prefetch.
"""

from __future__ import annotations

import strawberry_django
from django.db.models import Model
from strawberry.types import Info
from strawberry_django.fields.field import StrawberryDjangoField


class ColumnField(StrawberryDjangoField):
    """A study's column, read from the row already loaded, through Strawberry's fast path for attributes.

    strawberry-django marks every field it makes as needing its resolver, so each of the 360 values of a
    20-row page went through the full resolver chain (an Info object, argument parsing, the optimizer's
    hook): about 10 ms of CPU per page, most of GraphQL's overhead over REST. A column of a row the optimizer
    loaded needs none of it; fields with a resolver or extensions keep the full path.
    """

    @property
    def is_basic_field(self) -> bool:
        # Strawberry's own rule, which strawberry-django's field class overrides to always False.
        return not self.base_resolver and not self.extensions

    def get_result(self, source: Model, info: Info | None, args: list, kwargs: dict) -> object:
        # The column's value, as Strawberry's own fields read an attribute. strawberry-django's version
        # first looks the attribute up on the class to tell relations and properties apart, which a column
        # never is: 2 µs a value, 0.7 ms a 20-row page.
        return getattr(source, self.django_name or self.python_name)


def _column(description: str) -> ColumnField:
    return strawberry_django.field(description=description, field_cls=ColumnField)


def column(description: str) -> ColumnField:
    """A column with a description of its own (the others take the model field's name alone)."""
    return strawberry_django.field(description=description, field_cls=ColumnField)
