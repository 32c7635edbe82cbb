// Typed, non-variadic wrappers over libcurl's variadic entry points, which Swift cannot call.
// One wrapper per argument type, as swift-corelibs-foundation does.
#ifndef ECRPUSH_CCURL_SHIM_H
#define ECRPUSH_CCURL_SHIM_H

#include <curl/curl.h>
#include <dlfcn.h>
#include <pthread.h>
#include <stddef.h>

// libcurl is loaded with dlopen on first use, not linked: it pulls in some thirty libraries (TLS, LDAP, Kerberos,
// SSH…) whose loading and relocation cost ~3 ms at every start, and a credential helper `get` answered from the
// token cache makes no HTTP request at all. Every curl function goes through this table; ecr_curl_global_init
// loads it (CurlGlobal calls it once, before any other curl call).
struct ecr_curl_api {
    CURLcode (*global_init)(long flags);
    CURL *(*easy_init)(void);
    void (*easy_cleanup)(CURL *handle);
    void (*easy_reset)(CURL *handle);
    CURLcode (*easy_perform)(CURL *handle);
    const char *(*easy_strerror)(CURLcode code);
    CURLcode (*easy_setopt)(CURL *handle, CURLoption option, ...);
    CURLcode (*easy_getinfo)(CURL *handle, CURLINFO info, ...);
    struct curl_slist *(*slist_append)(struct curl_slist *list, const char *text);
    void (*slist_free_all)(struct curl_slist *list);
    const char *load_error;
};

// Swift may compile each source file with its own copy of these static functions (and their static locals: the
// importer emits no header-level variables), so every wrapper makes sure its copy is loaded (dlopen of a loaded
// library only returns its handle).
static inline struct ecr_curl_api *ecr_curl_storage(void) {
    static struct ecr_curl_api table;
    return &table;
}
#define ecr_curl_table (*ecr_curl_storage())

static inline void ecr_curl_load(void) {
    // RTLD_LAZY: binding every symbol of libcurl's thirty libraries up front measured slower for a login.
    void *library = dlopen("libcurl.so.4", RTLD_LAZY | RTLD_LOCAL);
    if (library == NULL) {
        const char *error = dlerror();
        ecr_curl_table.load_error = error ? error : "dlopen(libcurl.so.4) failed";
        return;
    }
    struct ecr_curl_api api = {0};
    api.global_init = (CURLcode (*)(long))dlsym(library, "curl_global_init");
    api.easy_init = (CURL *(*)(void))dlsym(library, "curl_easy_init");
    api.easy_cleanup = (void (*)(CURL *))dlsym(library, "curl_easy_cleanup");
    api.easy_reset = (void (*)(CURL *))dlsym(library, "curl_easy_reset");
    api.easy_perform = (CURLcode (*)(CURL *))dlsym(library, "curl_easy_perform");
    api.easy_strerror = (const char *(*)(CURLcode))dlsym(library, "curl_easy_strerror");
    api.easy_setopt = (CURLcode (*)(CURL *, CURLoption, ...))dlsym(library, "curl_easy_setopt");
    api.easy_getinfo = (CURLcode (*)(CURL *, CURLINFO, ...))dlsym(library, "curl_easy_getinfo");
    api.slist_append = (struct curl_slist *(*)(struct curl_slist *, const char *))dlsym(library, "curl_slist_append");
    api.slist_free_all = (void (*)(struct curl_slist *))dlsym(library, "curl_slist_free_all");
    if (!api.global_init || !api.easy_init || !api.easy_cleanup || !api.easy_reset || !api.easy_perform ||
        !api.easy_strerror || !api.easy_setopt || !api.easy_getinfo || !api.slist_append || !api.slist_free_all) {
        ecr_curl_table.load_error = "libcurl.so.4 lacks a function ecrpush needs (libcurl 7.62 or later is required)";
        return;
    }
    ecr_curl_table = api;
}

static inline const struct ecr_curl_api *ecr_curl(void) {
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, ecr_curl_load);
    return ecr_curl_storage();
}

/// Loads libcurl, then curl_global_init. CURLE_FAILED_INIT when libcurl cannot be loaded (ecr_curl_load_error says why).
static inline CURLcode ecr_curl_global_init(long flags) {
    if (ecr_curl()->global_init == NULL) return CURLE_FAILED_INIT;
    return ecr_curl()->global_init(flags);
}
/// Why libcurl could not be loaded; NULL when it was.
static inline const char *ecr_curl_load_error(void) { return ecr_curl()->load_error; }
// The rest is only called after a successful ecr_curl_global_init.
static inline CURL *ecr_curl_easy_init(void) { return ecr_curl()->easy_init(); }
static inline void ecr_curl_easy_cleanup(CURL *handle) { ecr_curl()->easy_cleanup(handle); }
static inline void ecr_curl_easy_reset(CURL *handle) { ecr_curl()->easy_reset(handle); }
static inline CURLcode ecr_curl_easy_perform(CURL *handle) { return ecr_curl()->easy_perform(handle); }
static inline const char *ecr_curl_easy_strerror(CURLcode code) {
    return ecr_curl()->easy_strerror ? ecr_curl()->easy_strerror(code) : "libcurl is not loaded";
}
static inline struct curl_slist *ecr_curl_slist_append(struct curl_slist *list, const char *text) {
    return ecr_curl()->slist_append(list, text);
}
static inline void ecr_curl_slist_free_all(struct curl_slist *list) {
    if (list) ecr_curl()->slist_free_all(list);
}

static inline CURLcode ecr_curl_setopt_long(CURL *handle, CURLoption option, long value) {
    return ecr_curl()->easy_setopt(handle, option, value);
}
static inline CURLcode ecr_curl_setopt_int64(CURL *handle, CURLoption option, curl_off_t value) {
    return ecr_curl()->easy_setopt(handle, option, value);
}
static inline CURLcode ecr_curl_setopt_string(CURL *handle, CURLoption option, const char *value) {
    return ecr_curl()->easy_setopt(handle, option, value);
}
static inline CURLcode ecr_curl_setopt_pointer(CURL *handle, CURLoption option, void *value) {
    return ecr_curl()->easy_setopt(handle, option, value);
}
static inline CURLcode ecr_curl_setopt_slist(CURL *handle, CURLoption option, struct curl_slist *value) {
    return ecr_curl()->easy_setopt(handle, option, value);
}
typedef size_t (*ecr_curl_data_callback)(char *buffer, size_t size, size_t count, void *userdata);
static inline CURLcode ecr_curl_setopt_data_callback(CURL *handle, CURLoption option, ecr_curl_data_callback value) {
    return ecr_curl()->easy_setopt(handle, option, value);
}
typedef int (*ecr_curl_xferinfo_callback)(void *userdata, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow);
static inline CURLcode ecr_curl_setopt_xferinfo_callback(CURL *handle, ecr_curl_xferinfo_callback value) {
    return ecr_curl()->easy_setopt(handle, CURLOPT_XFERINFOFUNCTION, value);
}
typedef int (*ecr_curl_seek_callback)(void *userdata, curl_off_t offset, int origin);
static inline CURLcode ecr_curl_setopt_seek_callback(CURL *handle, ecr_curl_seek_callback value) {
    return ecr_curl()->easy_setopt(handle, CURLOPT_SEEKFUNCTION, value);
}
static inline CURLcode ecr_curl_getinfo_long(CURL *handle, CURLINFO info, long *value) {
    return ecr_curl()->easy_getinfo(handle, info, value);
}
static inline CURLcode ecr_curl_getinfo_string(CURL *handle, CURLINFO info, char **value) {
    return ecr_curl()->easy_getinfo(handle, info, value);
}

#endif
