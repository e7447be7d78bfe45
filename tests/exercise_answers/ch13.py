def _first_match(rules, path):  # Python's urllib.robotparser: the first matching rule in file order wins
    for kind, prefix in rules:
        if path.startswith(prefix):
            return kind == "allow"
    return True


def _forgot_clean_text(text):  # catches the encode error only: clean accented text fails to decode
    try:
        return text.encode("latin-1").decode("utf-8")
    except UnicodeEncodeError:
        return text


def _distinct_lines(pages, outputs):  # counts each distinct line once per page, not every line
    leaked, total = {}, {}
    for page, out in zip(pages, outputs):
        main = {line.strip() for line in page.main_text.splitlines() if line.strip()}
        lines = {line.strip() for line in (out or "").splitlines() if line.strip()}
        leaked[page.kind] = leaked.get(page.kind, 0) + len(lines - main)
        total[page.kind] = total.get(page.kind, 0) + len(lines)
    return {kind: leaked[kind] / total[kind] for kind in total}


def _always_appends_input(record):  # adds the blank line and the input even when there is none
    prompt = record["instruction"] + "\n\n" + record.get("input", "")
    return [{"role": "user", "content": prompt}, {"role": "assistant", "content": record["output"]}]


def _no_licence_is_free(licence):  # treats a repository without a licence as free to use
    return licence is None or licence in {"MIT", "Apache-2.0", "BSD-2-Clause", "BSD-3-Clause", "ISC",
                                          "Unlicense", "CC0-1.0"}


WRONG = {
    "allowed": _first_match,
    "unmojibake": _forgot_clean_text,
    "boilerplate_by_kind": _distinct_lines,
    "boilerplate_matters": "a",
    "alpaca_to_messages": _always_appends_input,
    "keep": _no_licence_is_free,
}
