// Linked into the Lambda build only (see build-zip.sh). Amazon Linux 2023, the provided.al2023
// runtime, has glibc 2.34 and GCC 11's libstdc++ (GLIBCXX_3.4.29). Built on a newer system, the
// static Swift runtime references three symbols at versions AL2023 does not have:
//   hypot, hypotf                                  @GLIBC_2.35     (new default version in 2.35)
//   std::condition_variable::wait(unique_lock&)    @GLIBCXX_3.4.30 (re-versioned in GCC 12)
// The linker's --wrap=SYMBOL sends every reference to SYMBOL to __wrap_SYMBOL; each wrapper below
// calls the same function bound, with .symver, to the version that AL2023 also provides
// (GLIBC_2.2.5 and GLIBCXX_3.4.11 are the x86_64 baselines). Behaviour is unchanged: the old
// hypot differs from the new one only in the last ulp on some inputs, and the old
// condition_variable::wait is the same function under its first version.

double tfreg_hypot_compat(double x, double y);
float tfreg_hypotf_compat(float x, float y);
void tfreg_cv_wait_compat(void *condition, void *lock);

__asm__(".symver tfreg_hypot_compat, hypot@GLIBC_2.2.5");
__asm__(".symver tfreg_hypotf_compat, hypotf@GLIBC_2.2.5");
__asm__(".symver tfreg_cv_wait_compat, _ZNSt18condition_variable4waitERSt11unique_lockISt5mutexE@GLIBCXX_3.4.11");

double __wrap_hypot(double x, double y) { return tfreg_hypot_compat(x, y); }
float __wrap_hypotf(float x, float y) { return tfreg_hypotf_compat(x, y); }
void __wrap__ZNSt18condition_variable4waitERSt11unique_lockISt5mutexE(void *condition, void *lock) {
    tfreg_cv_wait_compat(condition, lock);
}
