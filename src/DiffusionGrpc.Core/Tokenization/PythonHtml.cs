using System.Globalization;
using System.Net;
using System.Text;
using System.Text.RegularExpressions;

namespace DiffusionGrpc.Core.Tokenization;

/// <summary>
/// An approximation of Python's <c>html.unescape</c>: the same reference syntax (optional ';', longest legacy
/// name prefix, numeric references with the HTML 5 replacements), named entities decoded by
/// <see cref="WebUtility.HtmlDecode(string)"/>. Gap: HTML 5 names that .NET does not know (e.g. <c>&amp;NewLine;</c>,
/// <c>&amp;bigstar;</c>) stay as written, where Python replaces them.
/// </summary>
internal static partial class PythonHtml
{
    // The HTML 5 names that are also valid without ';' (the legacy Latin-1 set plus AMP COPY GT LT QUOT REG).
    private static readonly Dictionary<string, string> Legacy = BuildLegacy(
        "Aacute aacute Acirc acirc acute AElig aelig Agrave agrave AMP amp Aring aring Atilde atilde Auml auml brvbar "
        + "Ccedil ccedil cedil cent COPY copy curren deg divide Eacute eacute Ecirc ecirc Egrave egrave ETH eth Euml euml "
        + "frac12 frac14 frac34 GT gt Iacute iacute Icirc icirc iexcl Igrave igrave iquest Iuml iuml laquo LT lt macr "
        + "micro middot nbsp not Ntilde ntilde Oacute oacute Ocirc ocirc Ograve ograve ordf ordm Oslash oslash Otilde "
        + "otilde Ouml ouml para plusmn pound QUOT quot raquo REG reg sect shy sup1 sup2 sup3 szlig THORN thorn times "
        + "Uacute uacute Ucirc ucirc Ugrave ugrave uml Uuml uuml Yacute yacute yen yuml");

    // Windows-1252 for the C1 range, as HTML 5 maps &#x80;..&#x9F; (0 where Python keeps the code point).
    private const string Cp1252 = "\u20ac\0\u201a\u0192\u201e\u2026\u2020\u2021\u02c6\u2030\u0160\u2039\u0152\0\u017d\0"
        + "\0\u2018\u2019\u201c\u201d\u2022\u2013\u2014\u02dc\u2122\u0161\u203a\u0153\0\u017e\u0178";

    [GeneratedRegex(@"&(#[0-9]+;?|#[xX][0-9a-fA-F]+;?|[^\t\n\f <&#;]{1,32};?)", RegexOptions.CultureInvariant)]
    private static partial Regex CharRef();

    private static Dictionary<string, string> BuildLegacy(string names)
    {
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string name in names.Split(' '))
        {
            string value = WebUtility.HtmlDecode("&" + name + ";");
            if (value.StartsWith('&'))
            {
                value = WebUtility.HtmlDecode("&" + name.ToLowerInvariant() + ";");
            }
            map[name] = value;
        }
        return map;
    }

    public static string Unescape(string text) =>
        text.Contains('&') ? CharRef().Replace(text, m => Replace(m.Groups[1].Value)) : text;

    private static string Replace(string s)
    {
        if (s[0] == '#')
        {
            bool hex = s[1] is 'x' or 'X';
            string digits = s[(hex ? 2 : 1)..].TrimEnd(';');
            digits = digits.TrimStart('0');
            long num;
            if (digits.Length > 8)
            {
                num = long.MaxValue;
            }
            else
            {
                num = digits.Length == 0 ? 0 : long.Parse(digits, hex ? NumberStyles.HexNumber : NumberStyles.None, CultureInfo.InvariantCulture);
            }
            if (num == 0)
            {
                return "\uFFFD";
            }
            if (num == 0x0D)
            {
                return "\r";
            }
            if (num is >= 0x80 and <= 0x9F && Cp1252[(int)num - 0x80] != '\0')
            {
                return Cp1252[(int)num - 0x80].ToString();
            }
            if (num is >= 0xD800 and <= 0xDFFF || num > 0x10FFFF)
            {
                return "\uFFFD";
            }
            if (num is >= 0x1 and <= 0x8 or >= 0xE and <= 0x1F or >= 0x7F and <= 0x9F or >= 0xFDD0 and <= 0xFDEF or 0xB
                || (num & 0xFFFE) == 0xFFFE)
            {
                return string.Empty;
            }
            return char.ConvertFromUtf32((int)num);
        }
        if (s.EndsWith(';'))
        {
            string decoded = WebUtility.HtmlDecode("&" + s);
            if (!decoded.StartsWith('&') || s == "amp;")
            {
                return decoded;
            }
        }
        if (Legacy.TryGetValue(s.TrimEnd(';'), out string? legacy) && (s.EndsWith(';') || Legacy.ContainsKey(s)))
        {
            return legacy;
        }
        for (int x = s.Length - 1; x > 1; x--)
        {
            if (Legacy.TryGetValue(s[..x], out string? prefix))
            {
                return prefix + s[x..];
            }
        }
        return "&" + s;
    }
}
