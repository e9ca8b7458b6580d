#ifndef CCURL_H
#define CCURL_H

#include <curl/curl.h>
#include <stddef.h>

// Typed wrappers for libcurl's variadic calls, which Swift cannot call directly.

CURLcode ccurl_easy_setopt_long(CURL *handle, CURLoption option, long value);
CURLcode ccurl_easy_setopt_off_t(CURL *handle, CURLoption option, curl_off_t value);
CURLcode ccurl_easy_setopt_string(CURL *handle, CURLoption option, const char *value);
CURLcode ccurl_easy_setopt_pointer(CURL *handle, CURLoption option, void *value);
CURLcode ccurl_easy_setopt_slist(CURL *handle, CURLoption option, struct curl_slist *value);

typedef size_t (*ccurl_data_callback)(char *ptr, size_t size, size_t nmemb, void *userdata);
CURLcode ccurl_easy_setopt_write_function(CURL *handle, ccurl_data_callback callback);
CURLcode ccurl_easy_setopt_header_function(CURL *handle, ccurl_data_callback callback);
CURLcode ccurl_easy_setopt_read_function(CURL *handle, ccurl_data_callback callback);

typedef int (*ccurl_seek_callback)(void *userdata, curl_off_t offset, int origin);
CURLcode ccurl_easy_setopt_seek_function(CURL *handle, ccurl_seek_callback callback);

CURLcode ccurl_easy_getinfo_long(CURL *handle, CURLINFO info, long *value);
CURLcode ccurl_easy_getinfo_double(CURL *handle, CURLINFO info, double *value);
CURLcode ccurl_easy_getinfo_off_t(CURL *handle, CURLINFO info, curl_off_t *value);
CURLcode ccurl_easy_getinfo_string(CURL *handle, CURLINFO info, char **value);
CURLcode ccurl_easy_getinfo_pointer(CURL *handle, CURLINFO info, void **value);

CURLMcode ccurl_multi_setopt_long(CURLM *multi, CURLMoption option, long value);

// The CURLMsg union does not import cleanly; read it through these.
int ccurl_msg_is_done(const CURLMsg *msg);
CURL *ccurl_msg_easy_handle(const CURLMsg *msg);
CURLcode ccurl_msg_result(const CURLMsg *msg);

#endif
