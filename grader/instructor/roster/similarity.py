"""Pairs of submissions whose answer files are unusually alike (copydetect).

Fingerprinting is copydetect's (winnowed k-grams of the tokenised code, with
names, strings and comments normalised away, so renaming variables or
reflowing whitespace does not hide a copy). This module only decides what is
compared with what:

* each submission is one document: its answer files, found exactly as the
  engine finds them, in rubric order;
* boilerplate is never evidence: the starter's stubs of the answer files and
  the code quoted in INSTRUCTIONS*.md are removed from every document;
* the reference solution is compared as if it were a submission, so a leaked
  solution shows as a match with the reference;
* two submissions are compared on what neither shares with the reference:
  submissions that both copied the reference are each flagged against it, and
  a pair between students ranks on code only those two have in common.

Similarity is evidence to read, never a verdict: the report says so.
"""

from __future__ import annotations

import copy
import dataclasses
import io
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grader.engine.workspace import find_answers
from grader.model.rubric import Rubric

__all__ = [
    "REFERENCE",
    "Document",
    "Pair",
    "SimilarityResult",
    "boilerplate_texts",
    "documents",
    "find_pairs",
]

REFERENCE = "(reference solution)"
# copydetect's own defaults (noise 25, guarantee 30), on its filtered code.
NOISE_THRESHOLD = 25
GUARANTEE_THRESHOLD = 30
# A pair is reported when at least this share of one side's code (boilerplate
# and, between students, the reference left out) is found in the other ...
THRESHOLD = 0.5
# ... and the shared code is at least this many characters of filtered code: two
# submissions that changed the same line of the reference share one line, not a copy.
MIN_OVERLAP = 80
# Detailed comparisons at most (a few ms each): a roster of identical copies stays fast.
MAX_DETAILED = 3000
_FENCE = re.compile(r"^```[ \t]*(python|py)?[ \t]*\n(.*?)^```", re.MULTILINE | re.DOTALL)


@dataclass(frozen=True)
class Document:
    """One submission's answer files as one text (``name`` as in the gradebook)."""

    name: str
    text: str


@dataclass(frozen=True)
class Pair:
    """Two documents alike: ``share_a`` of ``a``'s code is in ``b`` and ``share_b`` of ``b``'s
    in ``a``; ``overlap`` characters of filtered code in common; ``a_regions`` and
    ``b_regions`` are the matching ``(start, end)`` character ranges of each text."""

    a: str
    b: str
    share_a: float
    share_b: float
    overlap: int
    a_regions: tuple[tuple[int, int], ...]
    b_regions: tuple[tuple[int, int], ...]

    @property
    def score(self) -> float:
        """The larger share: how much of one side is found in the other."""
        return max(self.share_a, self.share_b)

    @property
    def with_reference(self) -> bool:
        """True when one side is the reference solution."""
        return REFERENCE in (self.a, self.b)


@dataclass
class SimilarityResult:
    """Every pair above the threshold, strongest first, and what was compared.

    ``texts`` holds each document's text by name, for the side-by-side view;
    ``compared`` pairs were looked at, ``candidates`` of them were alike enough to
    compare in detail and ``detailed`` were (at most ``MAX_DETAILED``).
    """

    pairs: list[Pair]
    compared: int
    texts: dict[str, str]
    candidates: int = 0
    detailed: int = 0
    threshold: float = THRESHOLD

    @property
    def reference_matches(self) -> list[Pair]:
        """Pairs with the reference solution (``b`` is the reference)."""
        return [pair for pair in self.pairs if pair.with_reference]

    @property
    def student_pairs(self) -> list[Pair]:
        """Pairs of two submissions."""
        return [pair for pair in self.pairs if not pair.with_reference]


def _read(path: Path) -> str:
    return path.read_bytes().decode("utf-8", errors="replace")


def document(name: str, submission: Path, rubric: Rubric) -> Document:
    """The answer files of ``submission`` (missing ones left out) as one text."""
    chunks = []
    for part in rubric.parts:
        for answer in find_answers(submission, part):
            if answer.path is not None:
                chunks.append(f"# ==== {answer.file} ====\n{_read(answer.path)}\n")
    return Document(name, "".join(chunks))


def documents(submissions: Iterable[Path], rubric: Rubric) -> list[Document]:
    """One document per submission folder, plus the reference solution's (named REFERENCE)."""
    found = [document(path.name, path, rubric) for path in submissions]
    reference = rubric.root / "assignment" / "solution"
    if reference.is_dir():
        found.append(document(REFERENCE, reference, rubric))
    return found


def boilerplate_texts(rubric: Rubric) -> list[str]:
    """The starter's stubs of every answer file and the Python quoted in INSTRUCTIONS*.md.

    The stubs come one by one and also joined as in a document, so that the seams
    between two untouched stubs are boilerplate too.
    """
    texts = [document("starter", rubric.starter, rubric).text]
    for part in rubric.parts:
        for file in part.files:
            stub = rubric.starter / file
            if stub.is_file():
                texts.append(_read(stub))
    for instructions in sorted(rubric.root.glob("INSTRUCTIONS*.md")):
        texts += [match.group(2) for match in _FENCE.finditer(_read(instructions))]
    return texts


def _fingerprint(text: str, boilerplate: Any, window: int) -> Any:
    from copydetect import CodeFingerprint

    return CodeFingerprint(
        "answer.py", NOISE_THRESHOLD, window, boilerplate=boilerplate, fp=io.StringIO(text)
    )


def _without(fingerprint: Any, hashes: set[int]) -> Any:
    """A copy of a copydetect fingerprint with ``hashes`` removed, as if they were boilerplate.

    What ``CodeFingerprint(boilerplate=...)`` does, without tokenising the text again.
    """
    from copydetect.utils import get_token_coverage

    kept = {h: idx for h, idx in fingerprint.hash_idx.items() if int(h) not in hashes}
    clone = copy.copy(fingerprint)
    clone.hashes = set(kept)
    clone.hash_idx = kept
    clone.token_coverage = get_token_coverage(kept, fingerprint.k, len(fingerprint.filtered_code))
    return clone


def _hashes(texts: Iterable[str]) -> Any:
    import numpy as np

    every: list[int] = []
    for text in texts:
        every.extend(_fingerprint(text, None, 1).hashes)
    return np.unique(np.array(every, dtype=np.int64))


def _regions(slices: Any) -> tuple[tuple[int, int], ...]:
    if len(slices) == 0 or len(slices[0]) == 0:
        return ()
    return tuple((int(start), int(end)) for start, end in zip(slices[0], slices[1], strict=True))


def _pair(a: Document, b: Document, fa: Any, fb: Any) -> Pair | None:
    from copydetect import compare_files

    overlap, (share_a, share_b), (slices_a, slices_b) = compare_files(fa, fb)
    if int(overlap) < MIN_OVERLAP or max(share_a, share_b) < THRESHOLD:
        return None
    return Pair(
        a=a.name,
        b=b.name,
        share_a=min(1.0, float(share_a)),
        share_b=min(1.0, float(share_b)),
        overlap=int(overlap),
        a_regions=_regions(slices_a),
        b_regions=_regions(slices_b),
    )


def find_pairs(
    docs: Sequence[Document],
    boilerplate: Sequence[str],
    *,
    progress: Callable[[int], Callable[[], None]] | None = None,
) -> SimilarityResult:
    """Compare every document with every other.

    ``progress(steps)`` is called once, before any work; the function it returns is
    called after each step: each document fingerprinted, then compared.

    copydetect's detailed comparison (which finds the matching regions) costs a few
    milliseconds; it runs only on candidate pairs, those whose fingerprint sets
    overlap enough to possibly pass the threshold, strongest first and at most
    ``MAX_DETAILED`` of them, and once per distinct pair of texts. The rough measure
    (the share of the smaller fingerprint set found in the other) only has to keep
    every pair that could pass: half the threshold leaves a wide margin.
    """
    window = GUARANTEE_THRESHOLD - NOISE_THRESHOLD + 1
    base = _hashes(boilerplate)
    reference = next((doc for doc in docs if doc.name == REFERENCE), None)
    students = [doc for doc in docs if doc.name != REFERENCE and doc.text.strip()]
    advance = progress(2 * len(students)) if progress is not None else _nothing
    own = []
    for doc in students:
        own.append(_fingerprint(doc.text, base, window))  # the costly step
        advance()
    candidates: list[_Candidate] = []
    prints = own
    if reference is not None:
        ref_print = _fingerprint(reference.text, base, window)
        candidates += _rough_pairs(
            [(doc, mine, reference, ref_print) for doc, mine in zip(students, own, strict=True)]
        )
        # Between students: the reference is boilerplate too.
        ref_all = set(_hashes([reference.text]).tolist())
        prints = [_without(mine, ref_all) for mine in own]
    for i, doc in enumerate(students):
        others = range(i + 1, len(students))
        candidates += _rough_pairs([(doc, prints[i], students[j], prints[j]) for j in others])
        advance()
    candidates.sort(key=lambda c: -c[0])
    pairs = _detailed(candidates[:MAX_DETAILED], reference)
    names = {name for pair in pairs for name in (pair.a, pair.b)}
    return SimilarityResult(
        pairs=pairs,
        compared=len(students) * (len(students) - 1) // 2 + (len(students) if reference else 0),
        texts={doc.name: doc.text for doc in docs if doc.name in names},
        candidates=len(candidates),
        detailed=min(len(candidates), MAX_DETAILED),
    )


_Candidate = tuple[float, Document, Document, Any, Any]  # rough share, a, b, their prints


def _rough_pairs(pairs: Iterable[tuple[Document, Any, Document, Any]]) -> list[_Candidate]:
    """The pairs whose rough share could pass: half the threshold leaves a wide margin."""
    candidates = []
    for a, fa, b, fb in pairs:
        rough = _rough(fa.hashes, fb.hashes)
        if rough >= THRESHOLD / 2:
            candidates.append((rough, a, b, fa, fb))
    return candidates


def _detailed(candidates: Iterable[_Candidate], reference: Document | None) -> list[Pair]:
    """copydetect's detailed comparison of each candidate, once per distinct pair of texts
    (copies of one text are common in a class), strongest pair first."""
    pairs: list[Pair] = []
    done: dict[tuple[str, str, bool], Pair | None] = {}  # with the reference or not
    for _, a, b, fa, fb in candidates:
        key = (a.text, b.text, b is reference)
        if key not in done:
            done[key] = _pair(a, b, fa, fb)
        found = done[key]
        if found is not None:
            pairs.append(dataclasses.replace(found, a=a.name, b=b.name))
    pairs.sort(key=lambda p: (-p.score, -p.overlap, p.a, p.b))
    return pairs


def _nothing() -> None:
    """No progress to show."""


def _rough(a: set[int], b: set[int]) -> float:
    """The share of the smaller fingerprint set found in the other (0 when either is empty)."""
    smaller = min(len(a), len(b))
    return len(a & b) / smaller if smaller else 0.0
