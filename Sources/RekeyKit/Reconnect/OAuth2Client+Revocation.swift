import OAuth

extension OAuth2Client {
    /// Revokes the refresh token, then the access token (RFC 7009), of those given; returns the kinds revoked.
    func revoke(access: Secret?, refresh: Secret?) async throws -> [String] {
        var revoked: [String] = []
        if let refresh {
            try await revoke(token: refresh.exposedString, typeHint: .refreshToken)
            revoked.append("refresh_token")
        }
        if let access {
            try await revoke(token: access.exposedString, typeHint: .accessToken)
            revoked.append("access_token")
        }
        return revoked
    }
}
