"""Settings schemas: one frozen dataclass per model family, the single source of its model settings.

Each field of a family's settings class (models/ecm/settings.py, models/cerg/settings.py,
models/pe2r/settings.py) is declared with `setting(...)`, which holds everything the package knows
about it:

    hidden: int = setting(256, "GRU units per layer (paper: 256).", bounds=(1, None), variables=True)

  default and help   the flag's (flags.py defines one flag per field, `define_from_schema`);
  choices / bounds   the values absl accepts on the command line, and `Settings` at construction
                     (values that do not come through absl: a config.json, library callers);
  variables          the setting changes the model's variables: a checkpoint fits only a model with the
                     same value (the "same model" check of restore);
  saved              a model-defining setting: written to config.json by training, reloaded from it by
                     decode/eval/export/chat, and compared when a run resumes;
  legacy             the value a config.json written before the setting existed stands for (how the
                     package behaved then); without one, such a file takes the current default.

A settings object is built from a Config or a config.json dict with `Settings.from_values`.
"""

import dataclasses

from ecm_tf.errors import InputError

NO_LEGACY = object()  # the setting is as old as config.json itself


@dataclasses.dataclass(frozen=True)
class Spec:
    """What a schema declares about one setting besides its name and default (see the module docstring)."""

    help: str
    choices: tuple = ()
    bounds: tuple = (None, None)  # (low, high) as flags.BOUNDS: None unbounded; "<0" above 0; "<1" below 1
    variables: bool = False
    saved: bool = True
    legacy: object = NO_LEGACY


def setting(default, help, *, choices=(), bounds=(None, None), variables=False, saved=True,  # noqa: A002
            legacy=NO_LEGACY):
    """A dataclass field of a settings class: its default and its Spec."""
    spec = Spec(help, tuple(choices), tuple(bounds), variables, saved, legacy)
    return dataclasses.field(default=default, metadata={"spec": spec})


def same_as(schema, name):
    """The field `name` of another schema, declared once (a setting two families share)."""
    field = schema.fields()[name]
    return dataclasses.field(default=field.default, metadata=field.metadata)


@dataclasses.dataclass(frozen=True)
class Settings:
    """Base of the family settings classes: choices checked at construction, schema queries."""

    def __post_init__(self):
        for name, field in self.fields().items():
            value, choices = getattr(self, name), spec_of(field).choices
            if choices and value not in choices:
                raise InputError(f"--{name}={value}: expected one of {', '.join(map(str, choices))}")

    @classmethod
    def fields(cls):
        """{name: dataclasses.Field} in declaration order."""
        return {f.name: f for f in dataclasses.fields(cls)}

    @classmethod
    def names(cls, saved=None, variables=None):
        """Setting names, optionally only the saved (model-defining) or variable-defining ones."""
        return tuple(name for name, f in cls.fields().items()
                     if (saved is None or spec_of(f).saved == saved)
                     and (variables is None or spec_of(f).variables == variables))

    @classmethod
    def legacy_values(cls):
        """{name: value} that a config.json written before the setting existed stands for."""
        return {name: spec_of(f).legacy for name, f in cls.fields().items() if spec_of(f).legacy is not NO_LEGACY}

    @classmethod
    def saved_values(cls, saved):
        """{name: value} of the saved settings of a config.json dict: its value, else the legacy one
        (a file written before the setting existed); settings it lacks without a legacy value are left out."""
        legacy = cls.legacy_values()
        return {name: saved[name] if name in saved else legacy[name]
                for name in cls.names(saved=True) if name in saved or name in legacy}

    @classmethod
    def from_values(cls, values):
        """The settings of a Config (every setting present) or of a config.json dict (read as
        `saved_values`, the defaults for the rest)."""
        if isinstance(values, dict):
            return cls(**{**{n: values[n] for n in cls.names() if n in values}, **cls.saved_values(values)})
        return cls(**{name: getattr(values, name) for name in cls.names()})

    def to_dict(self):
        return dataclasses.asdict(self)


def spec_of(field):
    return field.metadata["spec"]


def first_difference(names, saved, current):
    """(name, saved value, current value) of the first of `names` that `saved` holds with another value
    than `current` (dicts), or None."""
    for name in names:
        if name in saved and name in current and saved[name] != current[name]:
            return name, saved[name], current[name]
    return None
