using System.Globalization;
using System.Text;
using Microsoft.ML.Tokenizers;

namespace DiffusionGrpc.Core.Tokenization;

/// <summary>
/// OpenAI CLIP's text cleaning without ftfy: <c>html.unescape</c> twice, <c>str.strip()</c>, runs of
/// <c>\s</c> collapsed to one space, strip, then Python's <c>str.lower()</c>.
/// </summary>
internal sealed class ClipTextNormalizer : Normalizer
{
    public static readonly ClipTextNormalizer Instance = new();

    public override string Normalize(string original) => Clean(original ?? string.Empty);

    public override string Normalize(ReadOnlySpan<char> original) => Clean(original.ToString());

    internal static string Clean(string text)
    {
        // Gap (see PythonHtml): named entities are the ones WebUtility.HtmlDecode knows (HTML 4) plus the
        // legacy forms without ";"; Python knows all HTML 5 names.
        text = PythonHtml.Unescape(PythonHtml.Unescape(text));
        var sb = new StringBuilder(text.Length);
        bool pendingSpace = false;
        foreach (char c in text.AsSpan().Trim(PythonIsSpaceChars.AsSpan()))
        {
            if (IsRegexSpace(c))
            {
                pendingSpace = sb.Length > 0;
                continue;
            }
            if (pendingSpace)
            {
                sb.Append(' ');
                pendingSpace = false;
            }
            sb.Append(c);
        }
        return PythonLower(sb.ToString());
    }

    /// <summary>Python's <c>str.isspace</c> set, which <c>str.strip()</c> removes (the regex set plus U+001C..U+001F).</summary>
    private const string PythonIsSpaceChars =
        "\t\n\v\f\r\u001c\u001d\u001e\u001f \u0085\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
        + "\u2009\u200a\u2028\u2029\u202f\u205f\u3000";

    /// <summary>The <c>regex</c> module's <c>\s</c> (equal to .NET's <c>\s</c>).</summary>
    private static bool IsRegexSpace(char c) =>
        c is >= '\t' and <= '\r' or '\u0085'
        || CharUnicodeInfo.GetUnicodeCategory(c) is UnicodeCategory.SpaceSeparator
            or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator;

    /// <summary>Python's full lowercasing: İ → "i̇" and the final-sigma rule; other letters by simple mapping.</summary>
    internal static string PythonLower(string text)
    {
        var sb = new StringBuilder(text.Length);
        int i = 0;
        while (i < text.Length)
        {
            Rune.DecodeFromUtf16(text.AsSpan(i), out Rune rune, out int consumed);
            if (rune.Value == 0x130)
            {
                sb.Append("i\u0307");
            }
            else if (rune.Value == 0x3A3)
            {
                sb.Append(IsFinalSigma(text, i) ? '\u03C2' : '\u03C3');
            }
            else
            {
                sb.Append(Rune.ToLowerInvariant(rune).ToString());
            }
            i += consumed;
        }
        return sb.ToString();
    }

    // Unicode's Final_Sigma: a cased letter before (skipping case-ignorables) and none after.
    private static bool IsFinalSigma(string text, int index)
    {
        int j = index - 1;
        while (j >= 0 && IsCaseIgnorable(text[j]))
        {
            j--;
        }
        if (j < 0 || !IsCased(text[j]))
        {
            return false;
        }
        j = index + 1;
        while (j < text.Length && IsCaseIgnorable(text[j]))
        {
            j++;
        }
        return j >= text.Length || !IsCased(text[j]);
    }

    private static bool IsCased(char c) => CharUnicodeInfo.GetUnicodeCategory(c) is
        UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter;

    private static bool IsCaseIgnorable(char c) =>
        c is '\'' or '.' or ':' or '^' or '`' or '\u00b7' or '\u2019' or '\u2018' or '\u2024' or '\u2027'
        || CharUnicodeInfo.GetUnicodeCategory(c) is UnicodeCategory.NonSpacingMark or UnicodeCategory.EnclosingMark
            or UnicodeCategory.Format or UnicodeCategory.ModifierLetter or UnicodeCategory.ModifierSymbol;
}
