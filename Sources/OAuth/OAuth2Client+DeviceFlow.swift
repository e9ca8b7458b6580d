import Curl
import Foundation

extension OAuth2Client {
    /// The device authorization grant type (RFC 8628 §3.4).
    public static let deviceCodeGrantType = "urn:ietf:params:oauth:grant-type:device_code"

    /// Starts the device flow (RFC 8628 §3.1). Show the user ``DeviceAuthorization/userCode``
    /// and ``DeviceAuthorization/verificationURI``, then call ``pollDeviceToken(_:sleep:)``.
    public func startDeviceAuthorization(scopes: [String]? = nil) async throws -> DeviceAuthorization {
        guard let endpoint = configuration.deviceAuthorizationEndpoint else {
            throw OAuth2ClientError.endpointNotConfigured("device_authorization_endpoint")
        }
        let scopes = scopes ?? configuration.scopes
        let (response, sentAt) = try await postForm(
            to: endpoint, scopes.isEmpty ? [] : [("scope", scopes.joined(separator: configuration.scopeSeparator))])
        guard let authorization = DeviceAuthorization(json: try Self.jsonObject(response), issuedAt: sentAt) else {
            throw OAuth2ClientError.unexpectedResponse(status: response.status, detail: "incomplete device authorization response")
        }
        return authorization
    }

    /// Polls the token endpoint until the user approves (RFC 8628 §3.4–3.5).
    ///
    /// Waits `interval` before each poll; `authorization_pending` continues, `slow_down` adds
    /// 5 seconds to the interval for this and later polls, a transport timeout doubles it.
    /// - Parameter sleep: Waits between polls; replace it in tests to shorten or record waits.
    /// - Throws: ``OAuth2Error`` with `access_denied`, `expired_token` (also when the code's
    ///   lifetime runs out locally) or any other error code; `CancellationError` when cancelled.
    public func pollDeviceToken(
        _ authorization: DeviceAuthorization,
        sleep: (Duration) async throws -> Void = { try await Task.sleep(for: $0) }
    ) async throws -> TokenResponse {
        var interval = max(1, authorization.interval)
        while true {
            if Date().addingTimeInterval(TimeInterval(interval)) >= authorization.expiresAt {
                throw OAuth2Error(code: "expired_token", errorDescription: "the device code expired before the user approved it")
            }
            try await sleep(.seconds(interval))
            do {
                return try await requestToken(grantType: Self.deviceCodeGrantType, parameters: [("device_code", authorization.deviceCode)])
            } catch let error as OAuth2Error where error.code == "authorization_pending" {
                continue
            } catch let error as OAuth2Error where error.code == "slow_down" {
                interval += 5
            } catch let error as CurlError where error.isTimeout {
                interval *= 2
            }
        }
    }
}
