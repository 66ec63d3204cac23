"""Byte-level BPE in OpenAI CLIP's file format, learned from a caption corpus.

Writes vocab.json + merges.txt that a CLIP tokenizer (ours in C#, or transformers' CLIPTokenizer) reads
unchanged: the 256 byte symbols, the same with the end-of-word suffix `</w>`, one token per learned
merge, then `<|startoftext|>` and `<|endoftext|>`.
"""
import html
import json
import os
import re
from collections import Counter

BOS, EOS = "<|startoftext|>", "<|endoftext|>"
MAX_LENGTH = 77
# CLIP's pre-tokenizer pattern, written for Python's `re` (which lacks \p{L}): letters, single digits,
# runs of other non-space characters.
_WORDS = re.compile(r"<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[^\W\d_]+|\d|[^\s\w]+|_+", re.IGNORECASE)


def byte_symbols():
    """The reversible byte-to-character map of GPT-2/CLIP: printable bytes map to themselves, the
    others to the characters from U+0100 upwards, in byte order."""
    printable = set(range(ord("!"), ord("~") + 1)) | set(range(ord("¡"), ord("¬") + 1)) | set(range(ord("®"), ord("ÿ") + 1))
    order = sorted(printable)
    symbols = {b: chr(b) for b in order}
    shifted = 0
    for b in range(256):
        if b not in printable:
            symbols[b] = chr(256 + shifted)
            shifted += 1
    return [symbols[b] for b in order] + [symbols[b] for b in range(256) if b not in printable], symbols


def clean(text):
    text = html.unescape(html.unescape(text))
    return re.sub(r"\s+", " ", text).strip().lower()


def words_of(text):
    return _WORDS.findall(clean(text))


def _symbols_of(word, byte_map):
    chars = [byte_map[b] for b in word.encode("utf-8")]
    return tuple(chars[:-1]) + (chars[-1] + "</w>",)


def learn(corpus, max_merges=2000, min_frequency=2):
    """Learns merges (most frequent adjacent pair first, ties broken by the pair's text)."""
    _, byte_map = byte_symbols()
    freq = Counter(w for text in corpus for w in words_of(text))
    words = {_symbols_of(w, byte_map): n for w, n in freq.items()}
    merges = []
    while len(merges) < max_merges:
        pairs = Counter()
        for symbols, n in words.items():
            for pair in zip(symbols, symbols[1:]):
                pairs[pair] += n
        if not pairs:
            break
        best, count = min(pairs.items(), key=lambda kv: (-kv[1], kv[0]))
        if count < min_frequency:
            break
        merges.append(best)
        merged = {}
        for symbols, n in words.items():
            out, i = [], 0
            while i < len(symbols):
                if i + 1 < len(symbols) and (symbols[i], symbols[i + 1]) == best:
                    out.append(symbols[i] + symbols[i + 1])
                    i += 2
                else:
                    out.append(symbols[i])
                    i += 1
            merged[tuple(out)] = merged.get(tuple(out), 0) + n
        words = merged
    return merges


def write(folder, merges):
    """Writes the tokenizer folder of an SD 1.x model (pad token = EOS)."""
    os.makedirs(folder, exist_ok=True)
    ordered, _ = byte_symbols()
    vocab = ordered + [s + "</w>" for s in ordered]
    seen = set(vocab)
    for a, b in merges:
        if a + b not in seen:
            vocab.append(a + b)
            seen.add(a + b)
    vocab += [BOS, EOS]
    with open(os.path.join(folder, "vocab.json"), "w", encoding="utf-8") as f:
        json.dump({t: i for i, t in enumerate(vocab)}, f, ensure_ascii=False)
    with open(os.path.join(folder, "merges.txt"), "w", encoding="utf-8") as f:
        f.write("#version: 0.2\n" + "".join(f"{a} {b}\n" for a, b in merges))
    specials = {"bos_token": BOS, "eos_token": EOS, "pad_token": EOS, "unk_token": EOS}
    with open(os.path.join(folder, "special_tokens_map.json"), "w") as f:
        json.dump(specials, f, indent=1)
    with open(os.path.join(folder, "tokenizer_config.json"), "w") as f:
        json.dump({"model_max_length": MAX_LENGTH, "tokenizer_class": "CLIPTokenizer", "do_lower_case": True, **specials}, f, indent=1)


class Tokenizer:
    """CLIP tokenization with a folder's vocab.json/merges.txt: BOS, tokens, EOS, padded with EOS to 77."""

    def __init__(self, folder):
        with open(os.path.join(folder, "vocab.json"), encoding="utf-8") as f:
            self.vocab = json.load(f)
        with open(os.path.join(folder, "merges.txt"), encoding="utf-8") as f:
            lines = [l.rstrip("\n") for l in f if l.strip() and not l.startswith("#version")]
        self.ranks = {tuple(l.split(" ")): i for i, l in enumerate(lines)}
        _, self.byte_map = byte_symbols()
        self.bos, self.eos = self.vocab[BOS], self.vocab[EOS]
        self._cache = {}

    def _bpe(self, word):
        symbols = list(_symbols_of(word, self.byte_map))
        while len(symbols) > 1:
            ranked = [(self.ranks.get(p, 1 << 30), i) for i, p in enumerate(zip(symbols, symbols[1:]))]
            rank, i = min(ranked)
            if rank == 1 << 30:
                break
            symbols[i:i + 2] = [symbols[i] + symbols[i + 1]]
        return [self.vocab[s] for s in symbols]

    def __call__(self, text):
        ids = self._cache.get(text)
        if ids is None:
            ids = [t for w in words_of(text) for t in self._bpe(w)][:MAX_LENGTH - 2]
            ids = [self.bos] + ids + [self.eos]
            ids += [self.eos] * (MAX_LENGTH - len(ids))
            self._cache[text] = ids
        return ids
