package secret_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/mamori-soc/mamori/internal/secret"
)

func TestRead(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "pw")
	require.NoError(t, os.WriteFile(f, []byte("pässwörd 秘密\r\n"), 0o600))
	t.Setenv("MAMORI_TEST_SECRET", "from-env")

	s, err := secret.Read(f, "MAMORI_TEST_SECRET")
	require.NoError(t, err)
	require.Equal(t, "pässwörd 秘密", s, "the file wins; its line break is not part of it")

	s, err = secret.Read("", "MAMORI_TEST_SECRET")
	require.NoError(t, err)
	require.Equal(t, "from-env", s)

	s, err = secret.Read("", "MAMORI_TEST_UNSET")
	require.NoError(t, err)
	require.Empty(t, s)

	_, err = secret.Read(filepath.Join(dir, "missing"), "")
	require.ErrorIs(t, err, os.ErrNotExist)

	empty := filepath.Join(dir, "empty")
	require.NoError(t, os.WriteFile(empty, []byte("\n"), 0o600))
	_, err = secret.Read(empty, "")
	require.ErrorContains(t, err, "is empty")
}
