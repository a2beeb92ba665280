"""Safe YAML reading (no tags, no code), with libyaml's C parser where available for speed.

Every way a file can be hostile ends in a `yaml.YAMLError` (or, through `read_yaml`, an
`InputError` naming the file): tags, a key given twice, numbers with thousands of digits,
nesting deeper than the parser allows.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from sim.errors import InputError

_Base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_MERGE = "tag:yaml.org,2002:merge"


class _Loader(_Base):
    """The safe loader, refusing a key given twice in one mapping (YAML forbids it; PyYAML keeps the last)."""

    def construct_mapping(self, node, deep=False):
        if isinstance(node, yaml.MappingNode):
            seen = set()
            for key_node, _ in node.value:
                if key_node.tag == _MERGE:
                    continue
                key = self.construct_object(key_node, deep=True)
                try:
                    duplicate = key in seen
                    seen.add(key)
                except TypeError:
                    continue  # an unhashable key; the constructor reports it
                if duplicate:
                    raise yaml.constructor.ConstructorError(
                        "while constructing a mapping", node.start_mark, f"found key {key!r} twice", key_node.start_mark)
        return super().construct_mapping(node, deep=deep)


def safe_load(text: str):
    try:
        return yaml.load(text, Loader=_Loader)  # noqa: S506 - a subclass of CSafeLoader/SafeLoader
    except yaml.YAMLError:
        raise
    except (ValueError, OverflowError, RecursionError) as exc:
        # e.g. an integer of 5,000 digits (Python refuses to convert it) or nesting too deep for Python
        raise yaml.YAMLError(f"a value cannot be read ({str(exc).split(';')[0][:200]})") from None


def read_yaml(path: str | Path, field: str = "(file)"):
    """Read and parse one YAML file; every problem with the file itself is an InputError naming it."""
    path = Path(path)
    src = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(src, field, "file not found") from None
    except IsADirectoryError:
        raise InputError(src, field, "is a folder, not a file") from None
    except UnicodeDecodeError as exc:
        raise InputError(src, field, f"is not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise InputError(src, field, f"cannot be read ({type(exc).__name__}: {exc.strerror or exc})") from None
    try:
        return safe_load(text)
    except yaml.YAMLError as exc:
        raise InputError(src, field, f"not valid YAML (tags and code are not allowed): {exc}") from None
