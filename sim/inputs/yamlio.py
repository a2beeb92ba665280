"""Safe YAML reading (no tags, no code), with libyaml's C parser where available for speed.

Every way a file can be hostile ends in a `yaml.YAMLError` (or, through `read_yaml`, an
`InputError` naming the file): tags, a key given twice, numbers with thousands of digits,
nesting deeper than the parser allows, and anchors and aliases that expand into more values than
any input of this model holds ("billion laughs": ten aliases of ten aliases of ... are cheap to
parse but exponential for every check that walks the values).
"""

from __future__ import annotations

from pathlib import Path

import yaml

from sim.inputs.errors import InputError

_Base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_MERGE = "tag:yaml.org,2002:merge"
# The shipped catalogue holds about 2,000 values and 5 levels; a run's config.yaml about 500.
MAX_VALUES = 200_000
MAX_DEPTH = 40
MAX_BYTES = 10_000_000


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
        data = yaml.load(text, Loader=_Loader)  # noqa: S506 - a subclass of CSafeLoader/SafeLoader
    except yaml.YAMLError:
        raise
    except (ValueError, OverflowError, RecursionError) as exc:
        # e.g. an integer of 5,000 digits (Python refuses to convert it) or nesting too deep for Python
        raise yaml.YAMLError(f"a value cannot be read ({str(exc).split(';')[0][:200]})") from None
    _check_size(data)
    return data


def _check_size(data) -> None:
    """Count the values as every later check will see them (an alias counts each time it is used),
    stopping at the limit, so that the count itself stays cheap."""
    count, stack = 0, [(data, 1)]
    while stack:
        value, depth = stack.pop()
        count += 1
        if count > MAX_VALUES:
            raise yaml.YAMLError(f"more than {MAX_VALUES:,} values once anchors and aliases are expanded")
        if depth > MAX_DEPTH:
            raise yaml.YAMLError(f"nested more than {MAX_DEPTH} levels deep")
        if isinstance(value, dict):
            stack.extend((item, depth + 1) for pair in value.items() for item in pair)
        elif isinstance(value, list):
            stack.extend((item, depth + 1) for item in value)


_limits = f"at most {MAX_VALUES:,} values and {MAX_DEPTH} levels"


def read_yaml(path: str | Path, field: str = "(file)"):
    """Read and parse one YAML file; every problem with the file itself is an InputError naming it."""
    path = Path(path)
    src = str(path)
    try:
        if path.is_file() and path.stat().st_size > MAX_BYTES:
            raise InputError(src, field, f"is larger than {MAX_BYTES // 1_000_000} MB; no input of this model is")
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
        raise InputError(src, field, f"cannot be read as plain YAML (no tags or code; {_limits}): {exc}") from None
