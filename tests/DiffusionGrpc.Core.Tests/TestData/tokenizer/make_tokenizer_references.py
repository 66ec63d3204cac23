#!/usr/bin/python3
"""Writes tokenizer_references.json: OpenAI CLIP token ids for the C# ClipTokenizer tests.

Usage: /usr/bin/python3 make_tokenizer_references.py PATH/TO/openai-CLIP/clip/simple_tokenizer.py \
           /work/shared/tokenizers/clip/bpe_simple_vocab_16e6.txt.gz
Needs python3-regex. ftfy is replaced by an identity fix_text (the contract tokenizes without ftfy).
Each prompt is wrapped as Stable Diffusion does: BOS, the first 75 ids, EOS, padded with EOS to 77.
"""
import importlib.util
import json
import random
import sys
import types

ftfy = types.ModuleType("ftfy")
ftfy.fix_text = lambda text: text
sys.modules["ftfy"] = ftfy

spec = importlib.util.spec_from_file_location("simple_tokenizer", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
tokenizer = module.SimpleTokenizer(sys.argv[2])

BOS, EOS, MAX = 49406, 49407, 77

prompts = [
    "", " ", "   ", "\t\n  \r\n", "a", "A", "a photograph of an astronaut riding a horse",
    "A PHOTOGRAPH OF AN ASTRONAUT RIDING A HORSE", "a  photograph\tof\nan   astronaut",
    "  leading and trailing spaces  ", "masterpiece, best quality, 1girl, solo, looking at viewer",
    "portrait of a cat, oil painting, by greg rutkowski, trending on artstation, 8k, highly detailed",
    "a cyberpunk city at night, neon lights, rain, cinematic lighting, octane render, unreal engine 5",
    "(masterpiece:1.2), ((best quality)), [worst quality], {blurry}", "cat's toy", "it's", "don't",
    "they're", "we've", "I'm", "you'll", "he'd", "IT'S DON'T THEY'RE WE'VE I'M YOU'LL HE'D",
    "rock 'n' roll", "'s 't 're 've 'm 'll 'd", "o'clock", "James' book", "‘curly’ “quotes”",
    "1234567890", "3.14159", "year 2024", "1,000,000 dollars", "v1.5", "sd-2.1", "100%", "#1 #hashtag @user",
    "hello!!! what??? ...", "a-b_c/d\\e|f", "<html> &lt;tag&gt;", "fish &amp; chips", "it&#39;s",
    "&amp;amp; double", "&amp;lt;b&amp;gt;", "&quot;quoted&quot;", "&nbsp;non&nbsp;breaking", "&copy; 2020 &euro;5",
    "&#x41;&#66;c", "&unknown; entity", "&amp", "&lt", "caf\u00e9", "cafe\u0301", "na\u00efve r\u00e9sum\u00e9",
    "Stra\u00dfe", "\u00c5ngstr\u00f6m", "\u0130stanbul", "\u0130", "I\u0307", "\u039f\u0394\u03a5\u03a3\u03a3\u0395\u03a5\u03a3",
    "\u03a3\u03a3 \u03a3", "\u039c\u0391\u03a3", "\u03c3\u03c2\u03a3", "\u041c\u043e\u0441\u043a\u0432\u0430 \u041f\u0420\u0418\u0412\u0415\u0422",
    "\u6771\u4eac\u30bf\u30ef\u30fc", "\u732b\u304c\u597d\u304d", "\ud55c\uad6d\uc5b4 \ud14c\uc2a4\ud2b8", "\u4e2d\u6587\u63d0\u793a\u8bcd\uff0c\u5c71\u6c34\u753b",
    "\u0627\u0644\u0639\u0631\u0628\u064a\u0629", "\u05e2\u05d1\u05e8\u05d9\u05ea", "\u0939\u093f\u0928\u094d\u0926\u0940", "\u0e20\u0e32\u0e29\u0e32\u0e44\u0e17\u0e22",
    "emoji \U0001f600\U0001f680\U0001f308", "\U0001f468\u200d\U0001f469\u200d\U0001f467 family", "\u2764\ufe0f love", "flag \U0001f1ef\U0001f1f5",
    "\u00bd \u00b2 \u2460 \u0664\u0665", "\uff21\uff22\uff23 fullwidth \uff11\uff12\uff13", "\u2126 \u212a \u00b5", "\ufb01 ligature",
    "<|startoftext|>", "<|endoftext|>", "a <|endoftext|> b", "<|ENDOFTEXT|>", "<|startoftext|>hello<|endoftext|>",
    "<|endoftext|><|endoftext|>", "<|endoftext", "tab\there", "new\nline", "cr\rlf\r\n", "nbsp\u00a0here",
    "ideographic\u3000space", "em\u2003space", "line\u2028sep", "zero\u200bwidth", "soft\u00adhyphen",
    "control\x01char", "vt\x0bff\x0c", "\x1cfs\x1dgs\x1ers\x1fus", "x\x85y", "\u1680ogham", "narrow\u202fnb",
    "ALLCAPS MiXeD cAsE", "The Quick Brown Fox Jumps Over The Lazy Dog",
    "word " * 80, "a, " * 40, "supercalifragilisticexpialidocious " * 10, "\U0001f600" * 100,
    "1" * 90, " ".join(str(i) for i in range(100)),
    "a highly detailed matte painting of a castle on a hill at sunset, dramatic clouds, volumetric light, "
    "god rays, by albert bierstadt and thomas kinkade, artstation hq, 4k wallpaper, sharp focus, intricate, "
    "elegant, golden hour, warm colors, hyperrealistic, photorealistic, award winning, masterpiece",
    "low quality, blurry, bad anatomy, extra fingers, watermark, text, signature, jpeg artifacts",
]

subjects = ["a cat", "an old man", "a red car", "a wizard", "a robot", "the eiffel tower", "a bowl of ramen",
            "two dogs", "a spaceship", "a forest", "a girl with a pearl earring", "an owl", "New York City",
            "a dragon", "Mount Fuji", "a lighthouse", "a samurai", "a teapot", "a coral reef", "Van Gogh's room"]
styles = ["oil painting", "watercolor", "3D render", "photo, 35mm, f/1.8", "pixel art", "anime style",
          "by Studio Ghibli", "concept art", "ukiyo-e", "line drawing", "Trending on ArtStation", "HDR, 8K"]
extras = ["", "!", "?", "...", " (detailed)", ", 4k", " & friends", " &amp; co.", " 's", " won't",
          " \u2014 dramatic", " \u00e0 la fran\u00e7aise", " #art", "  \t ", " \U0001f525"]
rng = random.Random(1234)
for i in range(200):
    p = f"{rng.choice(subjects)}, {rng.choice(styles)}{rng.choice(extras)}"
    if i % 3 == 0:
        p = p.upper()
    elif i % 3 == 1:
        p = p.title()
    prompts.append(p)

alphabet = ("abcxyzABCXYZ0189 .,;:!?'\"()[]{}<>-_/\\&#@%*+=~`^|$\t\n\u00e9\u00c9\u00df\u0130\u0131\u03a3\u03c3\u03c2"
            "\u0414\u0434\u4e00\u3042\u30a2\uac00\U0001f600\u00a0\u3000\u0301\u2019")
for i in range(120):
    n = rng.randint(1, 40)
    prompts.append("".join(rng.choice(alphabet) for _ in range(n)))
prompts += ["&notit; &notin;", "&#x80;&#0;&#13;&#xD800;&#1;&#x110000;&#99999999999999;", "&AMP; &Amp; &ampx &ltb",
            "&#65 &#x42 &#x263a; &copy2020", "&amp;#39; &amp;quot;", "&eacute;t&eacute; &Eacute", "&frac12;&sup2;&micro"]
for word in ["&amp;", "&#39;", "&lt;", "&gt;", "&quot;", "&#x27;", "&apos;", "&hellip;"]:
    prompts.append(f"one{word}two {word} three")

# Every character that Python's str.lower() changes, 16 to a prompt (checks the lowercasing and \p{L}).
changed = [chr(c) for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF and chr(c).lower() != chr(c)]
for i in range(0, len(changed), 16):
    prompts.append(" ".join(changed[i:i + 16]))
# Every whitespace character between words, and at both ends.
for c in range(0x3001):
    if chr(c).isspace():
        prompts.append(f"{chr(c)}a{chr(c)}{chr(c)}b {chr(c)}")

cases = []
for p in prompts:
    ids = tokenizer.encode(p)
    truncated = len(ids) > MAX - 2
    ids = [BOS] + ids[:MAX - 2] + [EOS]
    ids += [EOS] * (MAX - len(ids))
    cases.append({"prompt": p, "ids": ids, "truncated": truncated})

with open("tokenizer_references.json", "w", encoding="utf-8") as f:
    json.dump({"max_length": MAX, "cases": cases}, f, ensure_ascii=True, separators=(",", ":"))
print(len(cases), "prompts,", sum(c["truncated"] for c in cases), "truncated")
