package parsers_test

import (
	"errors"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/japanese"

	"github.com/mamori-soc/mamori/parsers"
)

func encode(t testing.TB, enc encoding.Encoding, s string) []byte {
	t.Helper()
	b, err := enc.NewEncoder().Bytes([]byte(s))
	require.NoError(t, err)
	return b
}

func TestToUTF8(t *testing.T) {
	const ja = "ユーザー田中がログインに失敗しました（パスワード不一致）"
	cases := []struct {
		name string
		in   []byte
		want string
		enc  parsers.Encoding
		err  string
	}{
		{name: "ascii", in: []byte("plain ascii\ttext"), want: "plain ascii\ttext", enc: parsers.UTF8},
		{name: "utf-8 japanese", in: []byte(ja), want: ja, enc: parsers.UTF8},
		{name: "empty", in: []byte{}, want: "", enc: parsers.UTF8},
		{name: "shift_jis", in: encode(t, japanese.ShiftJIS, "sshd: "+ja), want: "sshd: " + ja, enc: parsers.ShiftJIS},
		{name: "shift_jis cp932 extensions", in: encode(t, japanese.ShiftJIS, "①②③ ㈱ ～ 髙"), want: "①②③ ㈱ ～ 髙", enc: parsers.ShiftJIS},
		{name: "shift_jis half-width katakana", in: encode(t, japanese.ShiftJIS, "ﾛｸﾞｲﾝ 失敗"), want: "ﾛｸﾞｲﾝ 失敗", enc: parsers.ShiftJIS},
		{name: "euc-jp", in: encode(t, japanese.EUCJP, "ログイン失敗: ユーザー田中"), want: "ログイン失敗: ユーザー田中", enc: parsers.EUCJP},
		{name: "euc-jp hiragana", in: encode(t, japanese.EUCJP, "ようこそ"), want: "ようこそ", enc: parsers.EUCJP},
		{name: "iso-2022-jp", in: encode(t, japanese.ISO2022JP, "件名: ログイン失敗"), want: "件名: ログイン失敗", enc: parsers.ISO2022JP},
		{name: "utf-8 with a stray escape", in: []byte("color \x1b[31mred\x1b[0m"), want: "color \x1b[31mred\x1b[0m", enc: parsers.UTF8},
		{name: "binary", in: []byte{'a', 'b', 0xff, 0xfe, 0x00, 0x01}, err: "not UTF-8 or Shift_JIS text: byte 0xff at offset 2 is invalid"},
		{name: "latin-1", in: []byte("caf\xe9 au lait"), err: "not UTF-8 or Shift_JIS text: byte 0xe9 at offset 3 is invalid"},
		{name: "shift_jis cut in the middle", in: encode(t, japanese.ShiftJIS, "ログイン")[:7], err: "not UTF-8 or Shift_JIS text: byte 0x83 at offset 6 is invalid"},
		{name: "shift_jis user-defined area", in: []byte{'x', 0xf0, 0x40}, err: "not UTF-8 or Shift_JIS text: byte 0xf0 at offset 1 is invalid"},
		{name: "shift_jis then binary", in: append(encode(t, japanese.ShiftJIS, "ログイン"), 0xff), err: "not UTF-8 or Shift_JIS text: byte 0xff at offset 8 is invalid"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, enc, err := parsers.ToUTF8(tc.in)
			if tc.err != "" {
				require.EqualError(t, err, tc.err)
				require.ErrorIs(t, err, parsers.ErrUnparsable)
				var te *parsers.TextError
				require.True(t, errors.As(err, &te))
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, string(got))
			require.Equal(t, tc.enc, enc, "detected %s", enc)
		})
	}
}

func TestToUTF8DoesNotCopyUTF8(t *testing.T) {
	in := []byte("<13>Jan  1 00:00:00 host app: テスト")
	got, _, err := parsers.ToUTF8(in)
	require.NoError(t, err)
	require.Same(t, &in[0], &got[0])
	require.Zero(t, testing.AllocsPerRun(100, func() { _, _, _ = parsers.ToUTF8(in) }))
}

func TestEncodingString(t *testing.T) {
	require.Equal(t, "Shift_JIS", parsers.ShiftJIS.String())
	require.Equal(t, "Encoding(9)", parsers.Encoding(9).String())
}

func FuzzToUTF8(f *testing.F) {
	for _, s := range []string{"plain", "ログイン失敗", "\xff\xfe", "caf\xe9"} {
		f.Add([]byte(s))
	}
	f.Add(encode(f, japanese.ShiftJIS, "パスワード認証に失敗"))
	f.Add(encode(f, japanese.EUCJP, "パスワード認証に失敗"))
	f.Add(encode(f, japanese.ISO2022JP, "パスワード認証に失敗"))
	f.Fuzz(func(t *testing.T, in []byte) {
		orig := append([]byte(nil), in...)
		out, enc, err := parsers.ToUTF8(in)
		require.Equal(t, string(orig), string(in), "input modified")
		if err != nil {
			require.ErrorIs(t, err, parsers.ErrUnparsable)
			var te *parsers.TextError
			require.True(t, errors.As(err, &te))
			require.GreaterOrEqual(t, te.Offset, 0)
			require.Less(t, te.Offset, len(in))
			require.Equal(t, in[te.Offset], te.Byte)
			return
		}
		require.True(t, utf8.Valid(out), "output is not UTF-8")
		if enc == parsers.UTF8 {
			require.Equal(t, string(in), string(out))
		}
		if utf8.Valid(in) {
			require.Contains(t, []parsers.Encoding{parsers.UTF8, parsers.ISO2022JP}, enc)
		}
		// Valid UTF-8 text that Shift_JIS can encode comes back unchanged
		// from its Shift_JIS form.
		if utf8.Valid(in) && enc == parsers.UTF8 {
			if sj, err := japanese.ShiftJIS.NewEncoder().Bytes(in); err == nil && !utf8.Valid(sj) {
				back, enc2, err := parsers.ToUTF8(sj)
				if err == nil && enc2 == parsers.ShiftJIS {
					require.Equal(t, string(in), string(back))
				}
			}
		}
	})
}
