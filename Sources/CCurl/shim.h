// Typed, non-variadic wrappers over libcurl's variadic entry points, which Swift cannot call.
// One wrapper per argument type, as swift-corelibs-foundation does.
#ifndef ECRPUSH_CCURL_SHIM_H
#define ECRPUSH_CCURL_SHIM_H

#include <curl/curl.h>

static inline CURLcode ecr_curl_setopt_long(CURL *handle, CURLoption option, long value) {
    return curl_easy_setopt(handle, option, value);
}
static inline CURLcode ecr_curl_setopt_int64(CURL *handle, CURLoption option, curl_off_t value) {
    return curl_easy_setopt(handle, option, value);
}
static inline CURLcode ecr_curl_setopt_string(CURL *handle, CURLoption option, const char *value) {
    return curl_easy_setopt(handle, option, value);
}
static inline CURLcode ecr_curl_setopt_pointer(CURL *handle, CURLoption option, void *value) {
    return curl_easy_setopt(handle, option, value);
}
static inline CURLcode ecr_curl_setopt_slist(CURL *handle, CURLoption option, struct curl_slist *value) {
    return curl_easy_setopt(handle, option, value);
}
typedef size_t (*ecr_curl_data_callback)(char *buffer, size_t size, size_t count, void *userdata);
static inline CURLcode ecr_curl_setopt_data_callback(CURL *handle, CURLoption option, ecr_curl_data_callback value) {
    return curl_easy_setopt(handle, option, value);
}
typedef int (*ecr_curl_xferinfo_callback)(void *userdata, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow);
static inline CURLcode ecr_curl_setopt_xferinfo_callback(CURL *handle, ecr_curl_xferinfo_callback value) {
    return curl_easy_setopt(handle, CURLOPT_XFERINFOFUNCTION, value);
}
typedef int (*ecr_curl_seek_callback)(void *userdata, curl_off_t offset, int origin);
static inline CURLcode ecr_curl_setopt_seek_callback(CURL *handle, ecr_curl_seek_callback value) {
    return curl_easy_setopt(handle, CURLOPT_SEEKFUNCTION, value);
}
static inline CURLcode ecr_curl_getinfo_long(CURL *handle, CURLINFO info, long *value) {
    return curl_easy_getinfo(handle, info, value);
}
static inline CURLcode ecr_curl_getinfo_string(CURL *handle, CURLINFO info, char **value) {
    return curl_easy_getinfo(handle, info, value);
}
static inline CURLcode ecr_curl_share_setopt_long(CURLSH *share, CURLSHoption option, long value) {
    return curl_share_setopt(share, option, value);
}

#endif
