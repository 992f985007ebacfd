"""Reading YAML that someone uploaded, within a budget of nodes, aliases and depth.

``yaml.safe_load`` builds no arbitrary objects, but it bounds nothing else: an alias is a
reference, so a 43 KB "billion laughs" document composes to a few hundred nodes and becomes
billions once something walks what was built (validation, a dump, a merge key ``<<``), and
deep nesting overflows the stack of PyYAML's recursive composer. ``load`` therefore works in
two steps. It composes the document, counting nodes and alias references as they arrive and
refusing past a limit (so a huge document is refused after reading only part of it, not
after building all of it). Then, before constructing any Python object, it measures the tree
the document expands to, each alias counted as a full copy of what it refers to and an
alias inside its own anchor refused, and constructs only when that fits.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml


@dataclass(frozen=True)
class YamlLimits:
    nodes: int = 50_000  # scalars, sequences and mappings written in the document
    aliases: int = 1_000  # references (*name) to an anchor (&name)
    depth: int = 50  # nesting, also through aliases
    expanded: int = 100_000  # nodes once every alias is replaced by a copy of its anchor

    def __str__(self) -> str:
        return (f"A document may have up to {self.nodes:,} nodes, {self.aliases:,} aliases and {self.depth} "
                f"levels of nesting, and its aliases may expand it to at most {self.expanded:,} nodes.")


LIMITS = YamlLimits()


class YamlLimitExceeded(yaml.YAMLError):
    """The document is larger, deeper or more aliased than the limits allow."""


def load(text: str, *, limits: YamlLimits = LIMITS) -> Any:
    """The single YAML document in ``text`` as Python data (safe types only), or None when it
    is empty. Raises ``YamlLimitExceeded`` past a limit, ``yaml.YAMLError`` when not YAML."""
    loader = _CountingLoader(text, limits)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _measure(node, limits)
        return loader.construct_document(node)
    finally:
        loader.dispose()


class _CountingLoader(yaml.SafeLoader):
    def __init__(self, text: str, limits: YamlLimits) -> None:
        super().__init__(text)
        self._limits = limits
        self._nodes = self._aliases = self._depth = 0

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        if self.check_event(yaml.AliasEvent):  # check_event reads the next event into current_event
            self._aliases += 1
            if self._aliases > self._limits.aliases:
                raise self._refuse(f"more than {self._limits.aliases:,} aliases")
            return super().compose_node(parent, index)
        self._nodes += 1
        if self._nodes > self._limits.nodes:
            raise self._refuse(f"more than {self._limits.nodes:,} nodes")
        if self._depth >= self._limits.depth:
            raise self._refuse(f"nested more than {self._limits.depth} levels deep")
        self._depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def _refuse(self, what: str) -> YamlLimitExceeded:
        return YamlLimitExceeded(f"{what} (at line {self.current_event.start_mark.line + 1})")


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def _measure(root: yaml.Node, limits: YamlLimits) -> None:
    """Refuse a document whose aliases expand past ``limits.expanded`` nodes or ``limits.depth``
    levels, or refer back into themselves. Each node is measured once (an anchor referred to a
    thousand times costs one visit), so this is linear in the composed document."""
    measured: dict[int, tuple[int, int]] = {}  # id(node) → (expanded size, height)
    open_nodes: set[int] = set()

    def visit(node: yaml.Node, depth: int) -> tuple[int, int]:
        if depth > limits.depth:  # also bounds this recursion
            raise YamlLimitExceeded(f"aliases nest it more than {limits.depth} levels deep")
        key = id(node)
        if key in open_nodes:
            raise YamlLimitExceeded(f"an alias refers to a node that contains it (line {node.start_mark.line + 1})")
        if key not in measured:
            open_nodes.add(key)
            size, height = 1, 0
            for child in _children(node):
                child_size, child_height = visit(child, depth + 1)
                size, height = size + child_size, max(height, child_height)
                if size > limits.expanded:
                    raise YamlLimitExceeded(f"aliases expand it to more than {limits.expanded:,} nodes")
            open_nodes.discard(key)
            measured[key] = size, height + 1
        size, height = measured[key]
        if depth + height - 1 > limits.depth:
            raise YamlLimitExceeded(f"aliases nest it more than {limits.depth} levels deep")
        return size, height

    visit(root, 1)
