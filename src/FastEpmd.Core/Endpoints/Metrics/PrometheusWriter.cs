// Prometheus text exposition format 0.0.4, written into a caller's buffer without allocating:
// HELP and TYPE once per family, then its samples. Names and label values are ASCII literals
// chosen by the code, so nothing needs escaping.
using System.Buffers.Text;

namespace FastEpmd.Endpoints.Metrics;

internal ref struct PrometheusWriter
{
    private readonly Span<byte> _buffer;
    private int _length;
    private bool _overflow;

    public PrometheusWriter(Span<byte> buffer)
    {
        _buffer = buffer;
        _length = 0;
        _overflow = false;
    }

    public int Length => _length;

    /// <summary>True when something did not fit; the text is then incomplete and must not be served.</summary>
    public bool Overflow => _overflow;

    /// <summary># HELP and # TYPE lines; type is "counter" or "gauge".</summary>
    public void Family(ReadOnlySpan<byte> name, ReadOnlySpan<byte> type, ReadOnlySpan<byte> help)
    {
        Append("# HELP "u8);
        Append(name);
        Append(" "u8);
        Append(help);
        Append("\n# TYPE "u8);
        Append(name);
        Append(" "u8);
        Append(type);
        Append("\n"u8);
    }

    /// <summary>A family with one unlabelled sample: the name is given once.</summary>
    public void Single(ReadOnlySpan<byte> name, ReadOnlySpan<byte> type, ReadOnlySpan<byte> help, long value)
    {
        Family(name, type, help);
        Sample(name, value);
    }

    public void Sample(ReadOnlySpan<byte> name, long value)
    {
        Append(name);
        Append(" "u8);
        Integer(value);
        Append("\n"u8);
    }

    public void Sample(ReadOnlySpan<byte> name, ReadOnlySpan<byte> label, ReadOnlySpan<byte> labelValue, long value)
    {
        Append(name);
        Append("{"u8);
        Label(label, labelValue);
        Append("} "u8);
        Integer(value);
        Append("\n"u8);
    }

    public void Sample(ReadOnlySpan<byte> name, ReadOnlySpan<byte> label1, ReadOnlySpan<byte> value1,
        ReadOnlySpan<byte> label2, ReadOnlySpan<byte> value2, long value)
    {
        Append(name);
        Append("{"u8);
        Label(label1, value1);
        Append(","u8);
        Label(label2, value2);
        Append("} "u8);
        Integer(value);
        Append("\n"u8);
    }

    /// <summary>A value in seconds given in milliseconds, printed with three decimals.</summary>
    public void SampleMilliseconds(ReadOnlySpan<byte> name, long milliseconds)
    {
        Append(name);
        Append(" "u8);
        Integer(milliseconds / 1000);
        Append("."u8);
        long fraction = Math.Abs(milliseconds % 1000);
        Digit(fraction / 100);
        Digit(fraction / 10 % 10);
        Digit(fraction % 10);
        Append("\n"u8);
    }

    private void Label(ReadOnlySpan<byte> label, ReadOnlySpan<byte> value)
    {
        Append(label);
        Append("=\""u8);
        Append(value);
        Append("\""u8);
    }

    private void Integer(long value)
    {
        if (_overflow || !Utf8Formatter.TryFormat(value, _buffer[_length..], out int written))
        {
            _overflow = true;
            return;
        }
        _length += written;
    }

    private void Digit(long digit)
    {
        if (_overflow || _length >= _buffer.Length)
        {
            _overflow = true;
            return;
        }
        _buffer[_length++] = (byte)('0' + digit);
    }

    private void Append(ReadOnlySpan<byte> bytes)
    {
        if (_overflow || bytes.Length > _buffer.Length - _length)
        {
            _overflow = true;
            return;
        }
        bytes.CopyTo(_buffer[_length..]);
        _length += bytes.Length;
    }
}
