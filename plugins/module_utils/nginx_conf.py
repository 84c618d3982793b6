# -*- coding: utf-8 -*-
# SPDX-License-Identifier: BSD-3-Clause
"""A small reader of nginx configuration files: enough to find blocks and directives with
their exact place in the text, so that one block can be replaced and every other byte of an
admin's file stays as it was. It follows nginx's own lexer (ngx_conf_file.c): words split by
white space, ';' ends a directive, '{' '}' open and close a block, '#' starts a comment
outside quotes, '...' and "..." are quoted, '\\' escapes, '${name}' is part of a word."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import re


class NginxSyntaxError(ValueError):
    pass


class Directive(object):
    """One directive: name, args, the offsets of its first and past-its-last character in the
    text (the ';' or the block's '}' included), its line (1-based) and, for a block, children."""

    def __init__(self, name, args, start, line):
        self.name = name
        self.args = args
        self.start = start
        self.end = None
        self.line = line
        self.end_line = None
        self.children = None

    def walk(self):
        """This directive and every one inside it, depth first."""
        yield self
        for child in self.children or []:
            yield from child.walk()


def _tokens(text):
    """Yield (kind, value, offset, line): kind 'word' or one of ';', '{', '}'."""
    i, n, line = 0, len(text), 1
    while i < n:
        c = text[i]
        if c == "\n":
            line += 1
            i += 1
        elif c in " \t\r":
            i += 1
        elif c == "#":
            while i < n and text[i] != "\n":
                i += 1
        elif c in ";{}":
            yield c, c, i, line
            i += 1
        elif c in "\"'":
            start, start_line, i, value = i, line, i + 1, []
            while i < n and text[i] != c:
                if text[i] == "\\" and i + 1 < n:
                    i += 1
                if text[i] == "\n":
                    line += 1
                value.append(text[i])
                i += 1
            if i >= n:
                raise NginxSyntaxError("unterminated quoted string from line %d" % start_line)
            i += 1
            yield "word", "".join(value), start, start_line
        else:
            start, value = i, []
            while i < n and text[i] not in " \t\r\n;{}\"'":
                if text[i] == "\\" and i + 1 < n:
                    value.append(text[i:i + 2])
                    i += 2
                    continue
                if text[i] == "$" and i + 1 < n and text[i + 1] == "{":
                    close = text.find("}", i)
                    if close < 0:
                        raise NginxSyntaxError("unterminated ${ on line %d" % line)
                    value.append(text[i:close + 1])
                    i = close + 1
                    continue
                value.append(text[i])
                i += 1
            yield "word", "".join(value), start, line


def parse(text):
    """The top-level directives of a file, as a list of Directive."""
    root = Directive("", [], 0, 1)
    root.children = []
    stack, current = [root], None
    for kind, value, offset, line in _tokens(text):
        if kind == "word":
            if current is None:
                current = Directive(value, [], offset, line)
            else:
                current.args.append(value)
        elif kind == ";":
            if current is None:
                raise NginxSyntaxError("unexpected ';' on line %d" % line)
            current.end, current.end_line = offset + 1, line
            stack[-1].children.append(current)
            current = None
        elif kind == "{":
            if current is None:
                raise NginxSyntaxError("unexpected '{' on line %d" % line)
            current.children = []
            stack[-1].children.append(current)
            stack.append(current)
            current = None
        else:
            if current is not None or len(stack) == 1:
                raise NginxSyntaxError("unexpected '}' on line %d" % line)
            block = stack.pop()
            block.end, block.end_line = offset + 1, line
    if current is not None:
        raise NginxSyntaxError("unexpected end of file: '%s' is not ended with ';'" % current.name)
    if len(stack) > 1:
        raise NginxSyntaxError("unexpected end of file: the block '%s' from line %d is not closed" % (stack[-1].name, stack[-1].line))
    return root.children


def line_span(text, node):
    """The offsets of the whole lines a directive stands on: from the start of its first line
    to past the newline of its last line, when nothing else shares them; otherwise the
    directive's own offsets."""
    start = text.rfind("\n", 0, node.start) + 1
    end = text.find("\n", node.end)
    end = len(text) if end < 0 else end + 1
    if text[start:node.start].strip() or text[node.end:end].strip():
        return node.start, node.end
    return start, end


def indent_of(text, node):
    start = text.rfind("\n", 0, node.start) + 1
    return re.match(r"[ \t]*", text[start:node.start]).group(0)


def listen_port(args):
    """The port of a `listen` directive's address (nginx's default: 80); None for a unix socket."""
    if not args:
        return None
    address = args[0]
    if address.startswith("unix:"):
        return None
    match = re.search(r"(?:^|:)(\d+)$", address)
    if match and (address.isdigit() or ":" in address):
        return int(match.group(1))
    return 80
