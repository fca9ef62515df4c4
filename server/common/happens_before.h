#pragma once

// Happens-before edges that pass through code ThreadSanitizer cannot see.
//
// Debian's gRPC is not a TSan build, so when gRPC hands an object of ours to
// one of its threads (a callback reactor's OnReadDone, say), TSan sees no
// synchronisation between the thread that started the operation and the one
// that runs the callback. Call HappensBefore(obj) before handing `obj` to
// such code, and HappensAfter(obj) first thing in the code that receives it.
// Outside a TSan build (CLOUDLINK_TSAN, see .bazelrc) both do nothing.

#if defined(CLOUDLINK_TSAN)
extern "C" void __tsan_acquire(void* addr);
extern "C" void __tsan_release(void* addr);
#endif

namespace cloudlink {

inline void HappensBefore(const void* obj) {
#if defined(CLOUDLINK_TSAN)
  __tsan_release(const_cast<void*>(obj));
#else
  (void)obj;
#endif
}

inline void HappensAfter(const void* obj) {
#if defined(CLOUDLINK_TSAN)
  __tsan_acquire(const_cast<void*>(obj));
#else
  (void)obj;
#endif
}

}  // namespace cloudlink
