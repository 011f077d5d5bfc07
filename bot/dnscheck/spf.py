"""SPF as a receiver evaluates it (RFC 7208): read a record, walk it, count it, suggest a fix.

- :func:`parse` reads a record and lists its syntax errors (section 12's grammar).
- :func:`evaluate` walks a record through the DNS answers gathered so far, as check_host()
  would (sections 4.6, 5, 6): it counts lookups and void lookups (section 4.6.4), finds loops,
  permerrors and which include targets are authorised, and says which answers it still needs.
- :func:`check` is the only I/O: it asks for those answers, all of one level at once, and
  evaluates again, until nothing is missing (one round trip per level of includes).
- :func:`suggest` builds the one record to publish: pure, told which includes to keep.

A receiver stops at the first term that matches; the walk assumes a sender that matches
nothing, so every term up to ``all`` is reached (the worst case, and what a spoofer costs).
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
from collections.abc import Awaitable, Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace

LOOKUP_LIMIT = 10  # section 4.6.4: include, a, mx, ptr, exists and redirect, together
VOID_LOOKUP_LIMIT = 2  # section 4.6.4: lookups that find no data or NXDOMAIN
MX_LIMIT = 10  # section 4.6.4: an mx term may look up at most 10 exchanges
TXT_STRING_LIMIT = 255  # RFC 1035 3.3.14: one TXT string; RFC 7208 3.3 joins several

MECHANISMS = frozenset({"all", "include", "a", "mx", "ptr", "ip4", "ip6", "exists"})
LOOKUP_TERMS = frozenset({"include", "a", "mx", "ptr", "exists", "redirect"})
QUALIFIERS = "+-~?"

Query = tuple[str, str]  # (name, type): ("_spf.contoso.com", "TXT")


@dataclass(frozen=True)
class Answer:
    """What the resolver said to one query."""

    values: tuple[str, ...] = ()  # TXT strings joined per record; MX/A values as text
    failure: str = ""  # timeout, SERVFAIL: no answer, so neither data nor void

    @property
    def void(self) -> bool:
        """No data or NXDOMAIN (section 4.6.4's "void lookup")."""
        return not self.failure and not self.values


Lookup = Callable[[str, str], Awaitable[Answer]]


def is_spf(txt: str) -> bool:
    # section 4.5: exactly "v=spf1", then a space or the end
    lowered = txt.strip().lower()
    return lowered == "v=spf1" or lowered.startswith("v=spf1 ")


def spf_records(txts: Iterable[str]) -> list[str]:
    return [t for t in txts if is_spf(t)]


def _domain(value: str) -> str:
    return value.lower().rstrip(".")


# ------------------------------------------------------------------------------ parsing


@dataclass(frozen=True)
class Term:
    qualifier: str  # "+", "-", "~", "?" for a mechanism ("+" when none is written); "" modifier
    name: str  # lower case: "include", "a", "all", "redirect", ...
    value: str  # after ":" or "=" as written ("host/24" for a:host/24; "/24" for a/24)
    text: str = ""  # the term as written; kept as is in a suggested record

    def __str__(self) -> str:
        if self.text:
            return self.text
        if not self.qualifier:
            return f"{self.name}={self.value}"
        q = "" if self.qualifier == "+" else self.qualifier
        sep = "" if not self.value or self.value.startswith("/") else ":"
        return f"{q}{self.name}{sep}{self.value}"

    @property
    def is_modifier(self) -> bool:
        return not self.qualifier

    @property
    def target(self) -> str:
        """The domain this term asks about ("" for the current domain; has no meaning for
        ip4/ip6/all)."""
        if self.name in ("a", "mx"):
            return _domain(self.value.split("/", 1)[0])
        return _domain(self.value)

    @property
    def key(self) -> str:
        """Equal for the same term written in another case (for de-duplication)."""
        return str(replace(self, text="")).lower()


@dataclass(frozen=True)
class Record:
    terms: tuple[Term, ...]
    errors: tuple[str, ...] = ()  # section 4.6: any syntax error makes the record a permerror

    @property
    def all_index(self) -> int | None:
        return next((i for i, t in enumerate(self.terms) if t.name == "all"), None)

    @property
    def all(self) -> Term | None:
        at = self.all_index
        return None if at is None else self.terms[at]

    @property
    def reached(self) -> tuple[Term, ...]:
        """The mechanisms a receiver evaluates: in order, up to the first ``all`` (which always
        matches, section 5.1), so nothing after it is ever reached (section 4.6.2)."""
        reached: list[Term] = []
        for term in self.terms:
            if not term.is_modifier:
                reached.append(term)
                if term.name == "all":
                    break
        return tuple(reached)

    @property
    def redirect(self) -> Term | None:
        """The redirect that applies: ignored when the record has an ``all`` (section 6.1)."""
        if self.all is not None:
            return None
        return next((t for t in self.terms if t.name == "redirect"), None)


_MODIFIER_NAME = re.compile(r"[a-z][a-z0-9_.\-]*\Z", re.IGNORECASE)
# section 7.1: %{letter digits r delimiters}, %%, %_, %- (c, r and t belong to explanations)
_MACRO = re.compile(r"%(?:\{[slodiphv]\d*r?[.\-+,/_=]*\}|[%_-])", re.IGNORECASE)
_MECHANISM = re.compile(r"([+\-~?]?)([^:/]*)(.*)\Z", re.DOTALL)
_CIDR = re.compile(r"(?:/(0|[1-9]\d?))?(?://(0|[1-9]\d{0,2}))?\Z")  # section 12 dual-cidr


def _macro_error(value: str) -> str | None:
    """What is wrong with a domain-spec (section 7.1's macros, visible ASCII), or None."""
    leftover = _MACRO.sub("", value)
    if "%" in leftover:
        return f"{value}: a % that is not a valid macro (RFC 7208 section 7.1)"
    if any(not 0x21 <= ord(c) <= 0x7E for c in leftover):
        return f"{value}: not a domain name"
    return None


def _network_error(name: str, value: str) -> str | None:
    address, slash, prefix = value.partition("/")
    if slash and not re.fullmatch(r"0|[1-9]\d{0,2}", prefix):
        return f"{name}:{value}: bad prefix length"
    try:
        network = ipaddress.ip_network(
            f"{address}/{prefix or ('32' if name == 'ip4' else '128')}", strict=False
        )
    except ValueError:
        return f"{name}:{value}: not an IPv{name[-1]} network"
    if network.version != int(name[-1]):
        return f"{name}:{value}: not an IPv{name[-1]} network"
    return None


def _term_error(term: Term) -> str | None:
    """The section 12 grammar, term by term."""
    name, value, written = term.name, term.value, term.text
    if term.is_modifier:
        if not _MODIFIER_NAME.match(name):
            return f"{written}: not a valid modifier name"
        if name in ("redirect", "exp"):
            if not value:
                return f"{written}: {name}= needs a domain"
            return _macro_error(value)
        return None  # unknown modifiers are ignored (section 6)
    if name not in MECHANISMS:
        return f"{written}: unknown mechanism {name!r}"
    if name == "all":
        return f"{written}: all takes no value" if value else None
    if name in ("ip4", "ip6"):
        return _network_error(name, value) if value else f"{written}: {name} needs a network"
    if name in ("include", "exists"):
        return _macro_error(value) if value else f"{written}: {name} needs a domain"
    domain, slash, cidr = value.partition("/")
    if name == "ptr" and slash:
        return f"{written}: ptr takes no prefix length"
    if slash:
        lengths = _CIDR.match("/" + cidr)
        v4, v6 = lengths.groups() if lengths else ("999", None)
        if (v4 and int(v4) > 32) or (v6 and int(v6) > 128):
            return f"{written}: bad prefix length"
    if written.partition(":")[1] and not domain:
        return f"{written}: a ':' needs a domain after it"
    return _macro_error(domain) if domain else None


def parse(record: str) -> Record:
    """The terms after ``v=spf1`` and every syntax error in them (section 4.6: anywhere in the
    record, even after ``all``). Unknown words are kept, so a suggestion loses nothing."""
    terms: list[Term] = []
    errors: list[str] = []
    for word in record.split()[1:]:
        head = re.split(r"[:/]", word, maxsplit=1)[0]
        if "=" in head:
            name, _, value = word.partition("=")
            if name[:1] in QUALIFIERS:
                # qualifiers are for mechanisms only (section 12)
                errors.append(f"{word}: a modifier takes no qualifier")
            term = Term("", name.lstrip(QUALIFIERS).lower(), value, word)
        else:
            qualifier, name, rest = _MECHANISM.match(word).groups()  # type: ignore[union-attr]
            value = rest[1:] if rest.startswith(":") else rest  # "a/24" keeps "/24"
            term = Term(qualifier or "+", name.lower(), value, word)
        terms.append(term)
        problem = _term_error(term)
        if problem:
            errors.append(problem)
    for name in ("redirect", "exp"):
        if sum(t.name == name for t in terms) > 1:
            errors.append(f"{name}= appears more than once (RFC 7208 section 6)")
    return Record(tuple(terms), tuple(errors))


def includes(record: str) -> list[str]:
    return [t.target for t in parse(record).terms if t.name == "include"]


# --------------------------------------------------------------------------- evaluation


@dataclass(frozen=True)
class Check:
    """One SPF record as a receiver would evaluate it, with what the DNS said."""

    record: str
    domain: str
    lookups: int  # terms that cost a DNS lookup, each time reached (section 4.6.4)
    void_lookups: int
    permerrors: tuple[str, ...] = ()  # any one fails the whole record at every receiver
    unresolved: tuple[str, ...] = ()  # includes whose record could not be fetched (temperror)
    # include/redirect target -> the includes through which a matching sender passes
    passes: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # include target -> why reaching it does not pass ("-include:spf.protection.outlook.com")
    blocked: Mapping[str, str] = field(default_factory=dict)
    all: str = ""  # qualifier of the all that ends the evaluation; "" none (neutral, 4.7)
    open_through: tuple[str, ...] = ()  # include chain that ends in +all: anyone passes
    costs: tuple[tuple[str, int], ...] = ()  # (top-level term, lookups it costs)
    voids: tuple[str, ...] = ()  # the terms whose lookup found nothing
    broken: tuple[str, ...] = ()  # top-level include targets without exactly one SPF record
    subtree: Mapping[str, int] = field(default_factory=dict)  # include target -> its record's cost
    notes: tuple[str, ...] = ()
    pending: frozenset[Query] = frozenset()  # answers still needed to finish
    rounds: int = 0  # sequential rounds of DNS queries it took (one per level)

    @property
    def counted(self) -> bool:
        """Every include and redirect was followed, so ``lookups`` is exact, not a floor."""
        return not any(rdtype == "TXT" for _, rdtype in self.pending) and not self.unresolved

    @property
    def limit_exceeded(self) -> bool:
        return self.lookups > LOOKUP_LIMIT

    def authorises(self, target: str) -> bool:
        return _domain(target) in self.passes


@dataclass
class _Walk:
    answers: Mapping[Query, Answer]
    lookups: int = 0
    permerrors: list[str] = field(default_factory=list)
    unresolved: list[str] = field(default_factory=list)
    passes: dict[str, tuple[str, ...]] = field(default_factory=dict)
    blocked: dict[str, str] = field(default_factory=dict)
    all: str = ""
    open_through: tuple[str, ...] = ()
    # the terms whose lookup found nothing, per address family of the sender: a receiver asks
    # A for an IPv4 sender and AAAA for an IPv6 one (section 5.3), and Microsoft 365 sends over
    # both, so the worse family is what a receiver counts (section 4.6.4)
    family_voids: dict[str, list[str]] = field(default_factory=lambda: {"IPv4": [], "IPv6": []})
    broken: list[str] = field(default_factory=list)
    subtree: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    pending: set[Query] = field(default_factory=set)
    # a record reached through many repeated includes is not walked past this (a receiver
    # gives up at 11; we go further so the report can say how far over the record is)
    budget: int = 10 * LOOKUP_LIMIT

    def void(self, how: str, families: Collection[str] = ("IPv4", "IPv6")) -> None:
        for family in families:
            self.family_voids[family].append(how)

    @property
    def worse_family(self) -> str:
        v4, v6 = self.family_voids["IPv4"], self.family_voids["IPv6"]
        return "IPv6" if len(v6) > len(v4) else "IPv4"

    @property
    def voids(self) -> list[str]:
        return self.family_voids[self.worse_family]

    @property
    def void_lookups(self) -> int:
        return len(self.voids)

    def problem(self, text: str, into: list[str]) -> None:
        if text not in into:
            into.append(text)

    def ask(self, name: str, rdtype: str) -> Answer | None:
        answer = self.answers.get((name, rdtype))
        if answer is None:
            self.pending.add((name, rdtype))
        return answer

    def spf_at(self, target: str, how: str, top_level: bool = False) -> str | None:
        """The one SPF record at ``target``, or None (a permerror, a failure, or pending)."""
        answer = self.ask(target, "TXT")
        if answer is None:
            return None
        if answer.failure:
            self.problem(
                f"could not get the SPF record of {target} ({answer.failure})", self.unresolved
            )
            return None
        if answer.void:
            self.void(how)
        found = spf_records(answer.values)
        if len(found) != 1:
            # section 5.2 (include) and 6.1 (redirect): "none" or several records: permerror
            what = "no SPF record" if not found else f"{len(found)} SPF records"
            self.problem(f"{how}: {target} has {what}", self.permerrors)
            if top_level:
                self.problem(target, self.broken)
            return None
        return found[0]

    def walk(
        self,
        text: str,
        domain: str,
        chain: tuple[str, ...],
        via: tuple[str, ...],
        block: str,
        top: bool,
    ) -> None:
        record = parse(text)
        if record.errors:
            where = "" if len(chain) == 1 else f"{domain}: "
            for error in record.errors:
                self.problem(f"{where}{error}", self.permerrors)
            return  # section 4.6: a syntax error stops evaluation before any term
        for term in record.reached:
            if self.lookups > self.budget:
                return
            self.term(term, domain, chain, via, block, top)
        if record.redirect is not None:
            self.redirect(record.redirect, domain, chain, via, block, top)

    def redirect(
        self,
        redirect: Term,
        domain: str,
        chain: tuple[str, ...],
        via: tuple[str, ...],
        block: str,
        top: bool,
    ) -> None:
        # section 6.1: without an all, evaluation goes on in the redirect target's record,
        # whose result is this record's result (its all decides, as if it were this one's)
        if self.lookups > self.budget:
            return
        self.lookups += 1
        target = redirect.target
        if "%" in target:
            self.problem(f"{redirect}: not followed (it uses a macro)", self.notes)
            return
        if target in chain:
            self.problem(f"redirect loop: {' → '.join([*chain, target])}", self.permerrors)
            return
        found = self.spf_at(target, str(redirect))
        if found is not None:
            if not block:
                self.passes.setdefault(target, (*via, target))
            self.walk(found, target, (*chain, target), (*via, target), block, top)

    def term(
        self,
        term: Term,
        domain: str,
        chain: tuple[str, ...],
        via: tuple[str, ...],
        block: str,
        top: bool,
    ) -> None:
        name = term.name
        if name == "all":
            if top:
                self.all = term.qualifier
            elif term.qualifier == "+" and not block and not self.open_through:
                self.open_through = via
            return
        if name not in LOOKUP_TERMS:
            return
        self.lookups += 1
        target = term.target or domain
        if "%" in target:
            self.problem(f"{term}: not followed (it uses a macro)", self.notes)
            return
        if name == "include":
            if target in chain:
                # a receiver would go round until the lookup limit: permerror either way
                self.problem(f"include loop: {' → '.join([*chain, target])}", self.permerrors)
                return
            found = self.spf_at(target, str(term), top_level=len(chain) == 1)
            if found is None:
                return
            # section 5.2: an include matches only when the target's result is pass, and then
            # the include's own qualifier decides: -include: of a passing target fails
            blocked = block or ("" if term.qualifier == "+" else str(term))
            reached_via = (*via, target)
            if blocked:
                self.blocked.setdefault(target, blocked)
            else:
                self.passes.setdefault(target, reached_via)
            before = self.lookups
            self.walk(found, target, (*chain, target), reached_via, blocked, top=False)
            self.subtree.setdefault(target, self.lookups - before)
        elif name == "ptr":
            self.problem(
                f"{term}: ptr is slow and unreliable; RFC 7208 section 5.5 says not to use it",
                self.notes,
            )
        elif name == "mx":
            answer = self.ask(target, "MX")
            if answer is not None and not answer.failure:
                if answer.void:
                    self.void(str(term))
                elif len(answer.values) > MX_LIMIT:
                    self.problem(
                        f"{term}: {target} has {len(answer.values)} MX records "
                        f"(at most {MX_LIMIT})",
                        self.permerrors,
                    )
        elif name == "exists":  # asks A whatever the sender's address (section 5.7)
            answer = self.ask(target, "A")
            if answer is not None and answer.void:
                self.void(str(term))
        else:  # a: A for an IPv4 sender, AAAA for an IPv6 one (section 5.3)
            for rdtype, family in (("A", "IPv4"), ("AAAA", "IPv6")):
                answer = self.ask(target, rdtype)
                if answer is not None and answer.void:
                    self.void(str(term), (family,))


def evaluate(
    record: str, domain: str, answers: Mapping[Query, Answer], *, limit: int = LOOKUP_LIMIT
) -> Check:
    """``record`` (published at ``domain``) evaluated with ``answers``; what is not there yet
    is in ``pending`` (and the counts are then a floor)."""
    domain = _domain(domain)
    walk = _Walk(answers)
    costs: list[tuple[str, int]] = []
    parsed = parse(record)
    # the top level term by term, so the report can say what each include costs
    if parsed.errors:
        walk.walk(record, domain, (domain,), (), "", top=True)
    else:
        for term in parsed.reached:
            before = walk.lookups
            walk.term(term, domain, (domain,), (), "", top=True)
            if walk.lookups > before:
                costs.append((str(term), walk.lookups - before))
        if parsed.redirect is not None:
            before = walk.lookups
            walk.redirect(parsed.redirect, domain, (domain,), (), "", top=True)
            costs.append((str(parsed.redirect), walk.lookups - before))
    permerrors = list(walk.permerrors)
    if walk.lookups > limit:
        floor = "" if not any(t == "TXT" for _, t in walk.pending) else "at least "
        permerrors.append(
            f"needs {floor}{walk.lookups} DNS lookups (limit {limit}, RFC 7208 section 4.6.4)"
        )
    if walk.void_lookups > VOID_LOOKUP_LIMIT:
        v4, v6 = walk.family_voids["IPv4"], walk.family_voids["IPv6"]
        sender = "" if v4 == v6 else f" for a sender over {walk.worse_family}"
        permerrors.append(
            f"{walk.void_lookups} lookups find nothing{sender} ({', '.join(walk.voids)}; limit "
            f"{VOID_LOOKUP_LIMIT}, RFC 7208 section 4.6.4)"
        )
    return Check(
        record=record,
        domain=domain,
        lookups=walk.lookups,
        void_lookups=walk.void_lookups,
        permerrors=tuple(permerrors),
        unresolved=tuple(walk.unresolved),
        passes=dict(walk.passes),
        blocked=dict(walk.blocked),
        all=walk.all,
        open_through=walk.open_through,
        costs=tuple(costs),
        voids=tuple(walk.voids),
        broken=tuple(walk.broken),
        subtree=dict(walk.subtree),
        notes=tuple(walk.notes),
        pending=frozenset(walk.pending),
    )


async def check(
    record: str,
    domain: str,
    lookup: Lookup,
    *,
    limit: int = LOOKUP_LIMIT,
    known: Mapping[Query, Answer] | None = None,
) -> Check:
    """Evaluate ``record``, asking ``lookup`` for what the evaluation needs: every query of a
    level at once, one round trip per level. Stops asking once the record is known to be over
    ``limit`` (a receiver stops there too), so a deep or wide record costs few round trips.
    ``known``: answers already at hand (asked beside the record itself)."""
    answers: dict[Query, Answer] = dict(known or {})
    rounds = 0
    while True:
        result = evaluate(record, domain, answers, limit=limit)
        if not result.pending or result.lookups > limit or rounds > limit:
            return replace(result, rounds=rounds)
        asked = sorted(result.pending)
        got = await asyncio.gather(*(lookup(name, rdtype) for name, rdtype in asked))
        answers.update(zip(asked, got, strict=True))
        rounds += 1


# ------------------------------------------------------------------------------ the fix


def txt_strings(record: str, size: int = TXT_STRING_LIMIT) -> tuple[str, ...]:
    """``record`` as TXT strings of at most ``size`` characters. A receiver joins them with
    nothing between (RFC 7208 section 3.3), so each is cut just after a space."""
    strings: list[str] = []
    rest = record
    while len(rest) > size:
        space = rest.rfind(" ", 0, size)
        cut = size if space <= 0 else space + 1
        strings.append(rest[:cut])
        rest = rest[cut:]
    strings.append(rest)
    return tuple(strings)


def quoted(record: str) -> str:
    """How to type the record into a DNS panel: one or more quoted strings."""
    return " ".join(f'"{s}"' for s in txt_strings(record))


@dataclass(frozen=True)
class Suggestion:
    record: str = ""  # "" when no single record can be built; why_not says why
    why_not: str = ""
    changes: tuple[str, ...] = ()  # what it changes beyond the terms found, and why
    lookups: int | None = None  # what it costs, when every kept term's cost is known

    @property
    def txt(self) -> str:
        return quoted(self.record)


def _never(_target: str) -> bool:
    return False


_LIST_FIRST = (
    " (first list every service that sends as the domain: mail from one not listed softfails)"
)


def _ending(alls: Sequence[Term], changes: list[str]) -> Term:
    """The all of the one record: ``-all`` only when every record already failed strangers;
    otherwise ``~all``, which marks them without bouncing mail from a sender not yet listed."""
    qualifiers = {t.qualifier for t in alls}
    if qualifiers == {"-"}:
        return Term("-", "all", "")
    if "+" in qualifiers or "?" in qualifiers:
        written = ", ".join(sorted({str(t) for t in alls if t.qualifier in "+?"}))
        changes.append(f"{written} let anyone send as the domain: now ~all{_LIST_FIRST}")
    elif not alls:
        changes.append(
            f"no all: a sender not listed got neutral (RFC 7208 section 4.7): now ~all{_LIST_FIRST}"
        )
    return Term("~", "all", "")


def suggest(
    records: Sequence[str],
    *,
    add: str,
    authorised_via: Collection[str] = (),
    keep: Collection[str] = frozenset(),
    retired: Callable[[str], bool] = _never,
    broken: Collection[str] = (),
    costs: Mapping[str, int] | None = None,
) -> Suggestion:
    """One SPF record holding every sender of ``records``, that authorises ``add``.

    - Nothing is dropped but includes of ``retired`` platforms (unless in ``keep``: senders the
      domain still uses, whatever else says) and ``broken`` includes (no SPF record at the
      target: they make every receiver fail the whole record).
    - ``include:<add>`` is added only when no kept include or redirect reaches it already
      (``authorised_via``: the top-level targets through which ``add`` passes), and a
      ``-include:``/``~include:``/``?include:`` of it becomes ``include:``.
    - A redirect is kept, or becomes an include when the record has an ``all`` (beside one, a
      redirect is ignored: RFC 7208 section 6.1); two different redirects cannot be merged.
    - ``costs`` (term as written -> lookups, from :class:`Check`) lets it count the result.
    """
    keep = {_domain(k) for k in keep}
    add = _domain(add)
    parsed = [parse(r) for r in records]
    changes: list[str] = []
    mechanisms: dict[str, Term] = {}
    modifiers: dict[str, Term] = {}
    alls: list[Term] = []
    live: dict[str, Term] = {}  # redirect target -> the redirect, in records without an all
    for record in parsed:
        at = record.all_index
        after = () if at is None else record.terms[at + 1 :]
        late = [str(t) for t in after if not t.is_modifier and t.name != "all"]
        if late and record.all is not None:
            changes.append(
                f"{' '.join(late)} moved before {record.all}: receivers never reached "
                "anything after it (RFC 7208 section 4.6.2)"
            )
        for term in record.terms:
            if term.name == "all":
                alls.append(term)
            elif term.name == "redirect":
                if record.all is None:
                    live.setdefault(term.target, term)
                else:
                    changes.append(
                        f"{term} was ignored beside an all (RFC 7208 section 6.1): dropped"
                    )
            elif term.is_modifier:
                modifiers.setdefault(term.name if term.name == "exp" else term.key, term)
            elif term.name == "include" and term.target in broken and term.target not in keep:
                changes.append(
                    f"{term} removed: {term.target} has no usable SPF record, so receivers fail "
                    "the whole record (permerror); put it back once its owner publishes one"
                )
            elif term.name == "include" and retired(term.target) and term.target not in keep:
                changes.append(f"{term} removed: a retired platform")
            else:
                mechanisms.setdefault(term.key, term)
    if len(live) > 1:
        targets = " and ".join(sorted(live))
        return Suggestion(
            why_not=(
                f"they redirect to {targets}, and one record can hold only one redirect= "
                "(RFC 7208 section 6): choose which domain's policy applies, or list both "
                "as include: before an all"
            )
        )
    redirect = next(iter(live.values()), None)
    if redirect is not None and alls:
        moved = Term("+", "include", redirect.value)
        mechanisms.setdefault(moved.key, moved)
        if costs is not None and str(redirect) in costs:
            costs = {**costs, str(moved): costs[str(redirect)]}
        changes.append(
            f"{redirect} became {moved}: beside an all a redirect is ignored (RFC 7208 section 6.1)"
        )
        redirect = None
    via = {_domain(v) for v in authorised_via} | {add}
    reaches = any(
        t.name == "include" and t.qualifier == "+" and t.target in via for t in mechanisms.values()
    ) or (redirect is not None and redirect.target in via)
    if not reaches:
        wrong = [k for k, t in mechanisms.items() if t.name == "include" and t.target == add]
        for key in wrong:
            changes.append(f"{mechanisms[key]} kept Microsoft 365 out: now include:{add}")
            mechanisms[key] = Term("+", "include", add)
        if not wrong:
            added = Term("+", "include", add)
            mechanisms[added.key] = added
    ending = None if redirect is not None and not alls else _ending(alls, changes)
    terms = [*mechanisms.values(), *([ending] if ending else []), *([redirect] if redirect else [])]
    terms += modifiers.values()
    text = " ".join(["v=spf1", *(str(t) for t in terms)])
    lookups = None
    if costs is not None:
        counted = [costs.get(str(t), 1) for t in terms if t.name in LOOKUP_TERMS]
        lookups = sum(counted)
    return Suggestion(record=text, changes=tuple(changes), lookups=lookups)
