/* test_sha256.c — vb_sha256_buf / vb_sha256_file (engine/common, OpenSSL's libcrypto) against the FIPS 180-2
** test vectors and a multi-chunk file whose digest is known (1,000,000 'a': the FIPS long-message vector, written
** in odd-sized pieces so the 1 MiB read loop crosses chunk boundaries); a missing file is an error naming it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka.h needs <setjmp.h>, <stdarg.h>, <stddef.h> and <stdint.h> first */
#include <cmocka.h>

#include "base/common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void test_vectors(void ** state) {
    (void)state;
    char h[65];
    vb_sha256_buf("", 0, h);
    assert_string_equal(h, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    vb_sha256_buf("abc", 3, h);
    assert_string_equal(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    const char * m = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    vb_sha256_buf(m, strlen(m), h);
    assert_string_equal(h, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

static void test_file(void ** state) {
    (void)state;
    char path[] = "/tmp/vb_sha256_XXXXXX";
    int  fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE * f = fdopen(fd, "wb");
    assert_non_null(f);
    char * a = malloc(1000000);
    memset(a, 'a', 1000000);
    size_t off = 0, piece = 7;
    while (off < 1000000) { /* odd pieces: the file is the same whatever the write pattern */
        size_t n = off + piece > 1000000 ? 1000000 - off : piece;
        assert_int_equal(fwrite(a + off, 1, n, f), n);
        off += n;
        piece = piece * 3 % 65537 + 1;
    }
    assert_int_equal(fclose(f), 0);
    char h[65], hb[65];
    assert_int_equal(vb_sha256_file(path, h), VB_OK);
    assert_string_equal(h, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    vb_sha256_buf(a, 1000000, hb);
    assert_string_equal(h, hb);
    free(a);
    unlink(path);
    assert_int_equal(vb_sha256_file(path, h), VB_ERR_IO);
    assert_non_null(strstr(vb_errmsg(), path));
}

int main(void) {
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_vectors), cmocka_unit_test(test_file)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
