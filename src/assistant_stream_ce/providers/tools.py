"""Tools for `run_provider`: plain Python functions, explicit `Tool` objects, or definitions.

>>> def get_weather(city: str, unit: Literal["C", "F"] = "C") -> dict:
...     '''The current weather in a city.
...
...     Args:
...         city: The city's name.
...     '''
>>> as_tool(get_weather).parameters["required"]
['city']

A tool with a ``function`` is a **server tool**: `run_provider` runs it between model steps and
streams its result. A tool without one is a **client tool**: the run ends with the call
unanswered, for the frontend to run. ``needs_approval=True`` makes the run stop for a person's
approval before a server tool runs. A server tool's arguments are checked against its
``parameters`` schema first (`Tool.check_arguments`): the model gets the problems as an error
result instead of the function being called with them.
"""

from __future__ import annotations

import asyncio
import dataclasses
import enum
import inspect
import re
import types
import typing
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Union

__all__ = ["Tool", "ToolInput", "as_tool", "as_tools", "json_schema_for", "tool"]

ToolFunction = Callable[..., Any]


@dataclass
class Tool:
    """A tool the model may call.

    ``parameters`` is the JSON schema of its arguments (an object schema). ``function`` (sync
    or async) receives the arguments as keyword arguments; None makes it a client tool.
    ``needs_approval``: the call waits for a person's decision before it runs.
    """

    name: str
    description: str | None = None
    parameters: dict[str, Any] = field(default_factory=lambda: {"type": "object", "properties": {}})
    function: ToolFunction | None = None
    needs_approval: bool = False
    _validator: Any = field(default=None, init=False, repr=False, compare=False)

    def check_arguments(self, arguments: Any) -> list[str]:
        """What is wrong with ``arguments`` against ``parameters`` (JSON Schema, the draft its
        ``$schema`` names, else 2020-12): a few ``path: problem`` lines, empty when valid."""
        validator = self._validator
        if validator is None:
            # Imported on first use: an app that never runs a server tool never loads it.
            from jsonschema import Draft202012Validator
            from jsonschema.exceptions import SchemaError
            from jsonschema.validators import validator_for

            cls = validator_for(self.parameters, default=Draft202012Validator)
            try:
                cls.check_schema(self.parameters)
            except SchemaError as exc:
                return [f"the tool's own parameter schema is invalid: {_short(exc.message)}"]
            validator = self._validator = cls(self.parameters)
        try:
            problems = sorted(validator.iter_errors(arguments), key=lambda e: list(e.path))
        except Exception as exc:  # e.g. a $ref that does not resolve
            return [f"the tool's own parameter schema cannot be applied: {_short(str(exc))}"]
        return [
            f"{_json_path(error.absolute_path)}: {_short(error.message)}"
            for error in problems[:_MAX_PROBLEMS]
        ]

    @property
    def is_server_tool(self) -> bool:
        """True when the server runs it (it has a function)."""
        return self.function is not None

    def definition(self) -> dict[str, Any]:
        """The tool as a Chat Completions function tool (what the providers send)."""
        function: dict[str, Any] = {"name": self.name, "parameters": self.parameters}
        if self.description:
            function["description"] = self.description
        return {"type": "function", "function": function}

    async def run(self, arguments: Mapping[str, Any]) -> Any:
        """Call the function with ``arguments``; a sync function runs in a worker thread."""
        if self.function is None:
            raise RuntimeError(f"{self.name!r} is a client tool: it has no function to run")
        if inspect.iscoroutinefunction(self.function):
            return await self.function(**arguments)
        result = await asyncio.to_thread(self.function, **arguments)
        if inspect.isawaitable(result):
            return await result
        return result


_MAX_PROBLEMS = 5


def _short(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _json_path(path: Iterable[Any]) -> str:
    out = "arguments"
    for key in path:
        out += f"[{key}]" if isinstance(key, int) else f".{key}"
    return out


#: What `run_provider(tools=...)` accepts for one tool.
ToolInput = Union[Tool, ToolFunction, Mapping[str, Any]]


def tool(
    function: ToolFunction | None = None,
    *,
    name: str | None = None,
    description: str | None = None,
    needs_approval: bool = False,
) -> Any:
    """Make a `Tool` of a function (as a decorator, with or without arguments)."""

    def make(fn: ToolFunction) -> Tool:
        return as_tool(fn, name=name, description=description, needs_approval=needs_approval)

    return make if function is None else make(function)


def as_tool(
    value: ToolInput,
    *,
    name: str | None = None,
    description: str | None = None,
    needs_approval: bool | None = None,
) -> Tool:
    """A `Tool` from a `Tool`, a function, or a definition (OpenAI, Anthropic, or
    ``{name, description, parameters}``, e.g. a `ToolDefinition` from a request)."""
    if isinstance(value, Tool):
        made = value
    elif isinstance(value, Mapping):
        made = _from_definition(value)
    elif callable(value) and not hasattr(value, "parameters"):
        made = _from_function(value)
    elif isinstance(getattr(value, "name", None), str):
        made = Tool(  # a ToolDefinition (requests) or any object shaped like one
            name=getattr(value, "name"),  # noqa: B009
            description=getattr(value, "description", None),
            parameters=dict(getattr(value, "parameters", None) or _EMPTY_OBJECT),
        )
    else:
        raise TypeError(f"cannot make a tool of {type(value).__name__}")
    changes: dict[str, Any] = {}
    if name is not None:
        changes["name"] = name
    if description is not None:
        changes["description"] = description
    if needs_approval is not None:
        changes["needs_approval"] = needs_approval
    return dataclasses.replace(made, **changes) if changes else made


def as_tools(values: Sequence[ToolInput] | None) -> dict[str, Tool]:
    """Tools by name; `ValueError` for two tools with one name."""
    out: dict[str, Tool] = {}
    for value in values or ():
        made = as_tool(value)
        if made.name in out:
            raise ValueError(f"two tools are named {made.name!r}")
        out[made.name] = made
    return out


_EMPTY_OBJECT: dict[str, Any] = {"type": "object", "properties": {}}


def _from_definition(definition: Mapping[str, Any]) -> Tool:
    function = definition.get("function")
    source: Mapping[str, Any] = (
        function
        if definition.get("type") == "function" and isinstance(function, Mapping)
        else definition
    )
    name = source.get("name")
    if not isinstance(name, str) or not name:
        raise ValueError("a tool definition needs a string 'name'")
    parameters = source.get("parameters", source.get("input_schema")) or _EMPTY_OBJECT
    return Tool(name=name, description=source.get("description"), parameters=dict(parameters))


# -- schemas from type hints and docstrings --------------------------------------------------


def _from_function(function: ToolFunction) -> Tool:
    name = getattr(function, "__name__", None)
    if not isinstance(name, str) or name == "<lambda>":
        raise ValueError("a tool function needs a name: use tool(fn, name=...)")
    summary, described = _parse_docstring(inspect.getdoc(function) or "")
    hints = typing.get_type_hints(function)
    properties: dict[str, Any] = {}
    required: list[str] = []
    for parameter in inspect.signature(function).parameters.values():
        if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            continue
        schema = json_schema_for(hints.get(parameter.name, Any))
        if parameter.name in described:
            schema = {**schema, "description": described[parameter.name]}
        if parameter.default is parameter.empty:
            required.append(parameter.name)
        elif _json_default(parameter.default):
            schema = {**schema, "default": parameter.default}
        properties[parameter.name] = schema
    parameters: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        parameters["required"] = required
    return Tool(name=name, description=summary or None, parameters=parameters, function=function)


def _json_default(value: Any) -> bool:
    return value is None or isinstance(value, (str, int, float, bool))


_SECTION = re.compile(r"^(Args|Arguments|Parameters|Params|Returns?|Raises|Yields|Examples?):\s*$")
_GOOGLE_ARG = re.compile(r"^\s*(\*{0,2}\w+)\s*(?:\([^)]*\))?\s*:\s*(.*)$")
_SPHINX_ARG = re.compile(r"^:param\s+(?:[\w\[\], .|]+\s+)?(\w+):\s*(.*)$")


def _parse_docstring(doc: str) -> tuple[str, dict[str, str]]:
    """The description (text before any section) and per-argument descriptions
    (Google ``Args:`` sections and Sphinx ``:param x:`` lines)."""
    summary: list[str] = []
    described: dict[str, str] = {}
    section: str | None = None
    current: str | None = None
    for line in doc.splitlines():
        stripped = line.strip()
        heading = _SECTION.match(stripped)
        if heading:
            section, current = heading.group(1), None
            continue
        sphinx = _SPHINX_ARG.match(stripped)
        if sphinx:
            section, current = "sphinx", sphinx.group(1)
            described[current] = sphinx.group(2).strip()
            continue
        if stripped.startswith(":"):
            section, current = "sphinx", None
            continue
        if section is None:
            summary.append(stripped)
        elif section in ("Args", "Arguments", "Parameters", "Params"):
            match = _GOOGLE_ARG.match(line)
            if match and not line.startswith((" " * 8, "\t\t")):
                current = match.group(1).lstrip("*")
                described[current] = match.group(2).strip()
            elif current and stripped:
                described[current] = f"{described[current]} {stripped}".strip()
        elif section == "sphinx" and current and stripped:
            described[current] = f"{described[current]} {stripped}".strip()
    return " ".join(" ".join(summary).split()), described


_SCALARS: dict[Any, dict[str, Any]] = {
    str: {"type": "string"},
    int: {"type": "integer"},
    float: {"type": "number"},
    bool: {"type": "boolean"},
    type(None): {"type": "null"},
}


def json_schema_for(annotation: Any) -> dict[str, Any]:
    """A JSON schema for a type hint: scalars, ``list``/``tuple``/``set``, ``dict``,
    ``Literal``, enums, unions and ``Optional``, TypedDicts, dataclasses and pydantic models
    (their own schema); anything else (``Any``) accepts any value."""
    if annotation in _SCALARS:
        return dict(_SCALARS[annotation])
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Annotated:
        return json_schema_for(args[0])
    if origin is Literal:
        return {"enum": list(args)}
    if origin is Union or (hasattr(types, "UnionType") and origin is types.UnionType):
        options = [json_schema_for(arg) for arg in args]
        return options[0] if len(options) == 1 else {"anyOf": options}
    if origin in (list, Sequence, set, frozenset, tuple) or annotation in (list, set, tuple):
        if origin is tuple and args and args[-1] is not Ellipsis:
            return {
                "type": "array",
                "prefixItems": [json_schema_for(arg) for arg in args],
                "minItems": len(args),
                "maxItems": len(args),
            }
        items = json_schema_for(args[0]) if args else {}
        return {"type": "array", "items": items} if items else {"type": "array"}
    if origin in (dict, Mapping) or annotation is dict:
        value = json_schema_for(args[1]) if len(args) == 2 else {}
        schema: dict[str, Any] = {"type": "object"}
        if value:
            schema["additionalProperties"] = value
        return schema
    if isinstance(annotation, type):
        if issubclass(annotation, enum.Enum):
            return {"enum": [member.value for member in annotation]}
        model_schema = getattr(annotation, "model_json_schema", None)
        if callable(model_schema):
            return dict(model_schema())
        if typing.is_typeddict(annotation) or dataclasses.is_dataclass(annotation):
            return _object_schema(annotation)
    return {}


def _object_schema(cls: type) -> dict[str, Any]:
    hints = typing.get_type_hints(cls)
    if dataclasses.is_dataclass(cls):
        required = [
            f.name
            for f in dataclasses.fields(cls)
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        ]
    else:
        required = sorted(getattr(cls, "__required_keys__", hints))
    schema: dict[str, Any] = {
        "type": "object",
        "properties": {key: json_schema_for(hint) for key, hint in hints.items()},
    }
    if required:
        schema["required"] = required
    return schema
