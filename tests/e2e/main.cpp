// doctest's main() for the end-to-end test binary; every other .cpp in tests/e2e holds test cases
// or the harness. Each test case starts its own epserve, so ctest may run them in parallel.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>
