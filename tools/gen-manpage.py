#!/usr/bin/env python3
"""Render a man page (roff) from swift-argument-parser's `--experimental-dump-help` JSON.

    vectortctl --experimental-dump-help > vectortctl.json
    tools/gen-manpage.py --source "vectort 0.1.0" --extra man/vectortctl.sections vectortctl.json > vectortctl.1

The JSON is ArgumentParserToolInfo's ToolInfoV0: {serializationVersion, command: CommandInfoV0}.
Each command has commandName, abstract, discussion, arguments[] and subcommands[]; each argument
has kind (positional|option|flag), names[{kind: long|short|longWithSingleDash, name}],
valueName, isOptional, isRepeating, defaultValue, allValueStrings, abstract, discussion,
shouldDisplay.

--extra FILE adds hand-written sections (ENVIRONMENT, FILES, EXIT STATUS, ...). Its format:
a line "# TITLE" starts a section; blank lines separate paragraphs; a line "TERM :: TEXT"
becomes a tagged paragraph. Standard library only.
"""

import argparse
import datetime
import json
import os
import re
import sys

SKIPPED_SUBCOMMANDS = {"help"}


def escape(text):
    """Escapes running text for roff: backslashes, hyphens, and control characters at line start."""
    text = text.replace("\\", "\\e").replace("-", "\\-")
    lines = []
    for line in text.split("\n"):
        if line.startswith((".", "'")):
            line = "\\&" + line
        lines.append(line)
    return "\n".join(lines)


def quote(text):
    """An argument of a roff request (.TH, .SS): escaped and in double quotes."""
    return '"' + escape(text).replace('"', '\\(dq') + '"'


def paragraphs(text):
    """Splits help text into paragraphs on blank lines, keeping line breaks inside a paragraph
    only where the source has an indented line (a list or an example)."""
    result = []
    for block in re.split(r"\n\s*\n", (text or "").strip()):
        block = block.rstrip()
        if not block:
            continue
        lines = block.split("\n")
        if any(line.startswith((" ", "\t")) for line in lines[1:]):
            result.append(("pre", block))
        else:
            result.append(("text", " ".join(line.strip() for line in lines)))
    return result


def render_paragraphs(text, out):
    first = True
    for kind, block in paragraphs(text):
        if not first:
            out.append(".PP")
        first = False
        if kind == "pre":
            out.append(".nf")
            out.append(escape(block))
            out.append(".fi")
        else:
            out.append(escape(block))


def visible(arguments):
    return [a for a in arguments or [] if a.get("shouldDisplay", True)]


def flag_name(name):
    kind, value = name["kind"], name["name"]
    if kind == "long":
        return "--" + value
    if kind == "short":
        return "-" + value
    return "-" + value  # longWithSingleDash


def value_name(argument):
    return "<" + (argument.get("valueName") or "value") + ">"


def synopsis_item(argument):
    """One argument as it appears in a synopsis: [--socket <socket>], <method>, [<parameters>]."""
    kind = argument["kind"]
    preferred = argument.get("preferredName") or (argument.get("names") or [None])[0]
    if kind == "positional":
        item = "\\fI" + escape(value_name(argument)) + "\\fR"
    elif kind == "option":
        item = "\\fB" + escape(flag_name(preferred)) + "\\fR \\fI" + escape(value_name(argument)) + "\\fR"
    else:
        item = "\\fB" + escape(flag_name(preferred)) + "\\fR"
    if argument.get("isRepeating"):
        item += " ..."
    if argument.get("isOptional"):
        item = "[" + item + "]"
    return item


def is_builtin(argument):
    names = {flag_name(n) for n in argument.get("names") or []}
    return bool(names & {"--help", "-h", "--version"})


def synopsis(path, command, out):
    arguments = [a for a in visible(command.get("arguments")) if not is_builtin(a)]
    subcommands = displayed_subcommands(command)
    items = [synopsis_item(a) for a in arguments if a["kind"] != "positional"]
    items += [synopsis_item(a) for a in arguments if a["kind"] == "positional"]
    out.append(".SY " + quote(" ".join(path)))
    if subcommands:
        out.append("\\fIcommand\\fR")
    for item in items:
        out.append(item)
    out.append(".YS")


def describe_argument(argument, out):
    kind = argument["kind"]
    if kind == "positional":
        label = "\\fI" + escape(value_name(argument)) + "\\fR"
    else:
        names = sorted(argument.get("names") or [], key=lambda n: n["kind"] != "short")
        parts = ["\\fB" + escape(flag_name(n)) + "\\fR" for n in names]
        label = ", ".join(parts)
        if kind == "option":
            label += " \\fI" + escape(value_name(argument)) + "\\fR"
    out.append(".TP")
    out.append(label)
    text = argument.get("abstract") or ""
    extras = []
    values = argument.get("allValueStrings") or argument.get("allValues")
    if values:
        extras.append("Values: " + ", ".join(values) + ".")
    default = argument.get("defaultValue")
    if default not in (None, "") and kind != "flag":
        extras.append("Default: " + default + ".")
    line = " ".join(part for part in [text.strip()] + extras if part)
    out.append(escape(line) if line else "")
    if argument.get("discussion"):
        out.append(".IP")
        render_paragraphs(argument["discussion"], out)


def displayed_subcommands(command):
    return [
        s for s in command.get("subcommands") or []
        if s.get("shouldDisplay", True) and s["commandName"] not in SKIPPED_SUBCOMMANDS
    ]


def render_options(arguments, out):
    for argument in arguments:
        describe_argument(argument, out)


def render_subcommands(path, command, out):
    for sub in displayed_subcommands(command):
        sub_path = path + [sub["commandName"]]
        out.append(".SS " + quote(" ".join(sub_path)))
        synopsis(sub_path, sub, out)
        if sub.get("aliases"):
            out.append(".PP")
            out.append(escape("Aliases: " + ", ".join(sub["aliases"]) + "."))
        if sub.get("abstract"):
            out.append(".PP")
            out.append(escape(sub["abstract"]))
        if sub.get("discussion"):
            out.append(".PP")
            render_paragraphs(sub["discussion"], out)
        arguments = [a for a in visible(sub.get("arguments")) if not is_builtin(a)]
        if arguments:
            out.append(".PP")
            out.append("Options:")
            out.append(".RS")
            render_options(arguments, out)
            out.append(".RE")
        render_subcommands(sub_path, sub, out)


def parse_extra(path):
    """Reads a sections file: "# TITLE" lines, paragraphs, "TERM :: TEXT" tagged paragraphs."""
    sections = []
    with open(path, encoding="utf-8") as handle:
        for raw in handle:
            line = raw.rstrip("\n")
            if line.startswith("# "):
                sections.append((line[2:].strip().upper(), []))
            elif sections:
                sections[-1][1].append(line)
            elif line.strip():
                raise SystemExit(f"{path}: text before the first '# TITLE' line")
    return sections


def render_extra(lines, out):
    paragraph = []

    def flush():
        if paragraph:
            out.append(".PP")
            out.append(escape(" ".join(paragraph)))
            paragraph.clear()

    for line in lines:
        if not line.strip():
            flush()
        elif " :: " in line:
            flush()
            term, text = line.split(" :: ", 1)
            out.append(".TP")
            out.append("\\fB" + escape(term.strip()) + "\\fR")
            out.append(escape(text.strip()))
        elif line.startswith("    "):
            flush()
            out.append(".nf")
            out.append(".RS")
            out.append(escape(line.strip()))
            out.append(".RE")
            out.append(".fi")
        else:
            paragraph.append(line.strip())
    flush()


def render(tool, section, date, source, manual, extras, see_also):
    command = tool["command"]
    name = command["commandName"]
    out = [
        '.\\" Generated by tools/gen-manpage.py from "' + name + ' --experimental-dump-help"; do not edit.',
        ".TH " + " ".join([quote(name.upper()), str(section), quote(date), quote(source), quote(manual)]),
        ".SH NAME",
        escape(name) + " \\- " + escape(command.get("abstract") or name),
        ".SH SYNOPSIS",
    ]
    synopsis([name], command, out)
    if command.get("discussion"):
        out.append(".SH DESCRIPTION")
        render_paragraphs(command["discussion"], out)
    arguments = visible(command.get("arguments"))
    if arguments:
        out.append(".SH OPTIONS")
        render_options(arguments, out)
    if displayed_subcommands(command):
        out.append(".SH COMMANDS")
        render_subcommands([name], command, out)
    for path in extras:
        for title, lines in parse_extra(path):
            out.append(".SH " + quote(title))
            render_extra(lines, out)
    if see_also:
        out.append(".SH \"SEE ALSO\"")
        refs = []
        for ref in see_also:
            match = re.fullmatch(r"(.+)\((\w+)\)", ref)
            refs.append("\\fB" + escape(match[1]) + "\\fR(" + match[2] + ")" if match else escape(ref))
        out.append(",\n".join(refs))
    return "\n".join(out) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("json", help="dump-help JSON file, or - for standard input")
    parser.add_argument("--section", default="1")
    parser.add_argument("--date", help="date in the footer (default: $SOURCE_DATE_EPOCH or today)")
    parser.add_argument("--source", default="", help='e.g. "vectort 0.1.0"')
    parser.add_argument("--manual", default="User Commands")
    parser.add_argument("--extra", action="append", default=[], help="hand-written sections file")
    parser.add_argument("--see-also", action="append", default=[], help="a reference such as vectortd(1)")
    parser.add_argument("-o", "--output", help="write here instead of standard output")
    options = parser.parse_args()

    if options.json == "-":
        tool = json.load(sys.stdin)
    else:
        with open(options.json, encoding="utf-8") as handle:
            tool = json.load(handle)
    if tool.get("serializationVersion", 0) != 0 or "command" not in tool:
        raise SystemExit("gen-manpage: expected ToolInfoV0 JSON (serializationVersion 0)")

    date = options.date
    if not date:
        epoch = os.environ.get("SOURCE_DATE_EPOCH")
        moment = (
            datetime.datetime.fromtimestamp(int(epoch), datetime.timezone.utc)
            if epoch else datetime.datetime.now(datetime.timezone.utc)
        )
        date = moment.strftime("%Y-%m-%d")

    text = render(tool, options.section, date, options.source, options.manual, options.extra, options.see_also)
    if options.output:
        with open(options.output, "w", encoding="utf-8") as handle:
            handle.write(text)
    else:
        sys.stdout.write(text)


if __name__ == "__main__":
    main()
