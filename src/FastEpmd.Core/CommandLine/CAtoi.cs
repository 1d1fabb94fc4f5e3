// C's atoi as glibc implements it, because OTP reads every number on its command line with it.
namespace FastEpmd.CommandLine;

internal static class CAtoi
{
    // glibc's atoi(s) is (int)strtol(s, NULL, 10): skip C-locale white space, take an optional
    // sign and the longest run of decimal digits, saturate at LONG_MIN/LONG_MAX (64-bit), and keep
    // the low 32 bits. So "12abc" is 12, "abc" and "" are 0, "4294967296" is 0 (OTP prints the
    // usage) and "99999999999999999999" is -1 (OTP accepts it).
    public static int Parse(string text)
    {
        int i = 0;
        while (i < text.Length && IsCSpace(text[i])) i++;
        bool negative = false;
        if (i < text.Length && (text[i] == '+' || text[i] == '-'))
        {
            negative = text[i] == '-';
            i++;
        }
        ulong limit = negative ? 1UL << 63 : long.MaxValue;
        ulong magnitude = 0;
        bool overflow = false;
        for (; i < text.Length && char.IsAsciiDigit(text[i]); i++)
        {
            uint digit = (uint)(text[i] - '0');
            if (overflow) continue;
            if (magnitude > (limit - digit) / 10) overflow = true;
            else magnitude = magnitude * 10 + digit;
        }
        long value;
        if (overflow) value = negative ? long.MinValue : long.MaxValue;
        else value = negative ? unchecked((long)(0UL - magnitude)) : (long)magnitude;
        return unchecked((int)value);
    }

    private static bool IsCSpace(char c) => c is ' ' or '\t' or '\n' or '\v' or '\f' or '\r';
}
