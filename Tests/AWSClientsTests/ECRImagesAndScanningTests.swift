import AWSCore
import ECR
import Foundation
import Hashing
import SigV4
import TestWorld
import Testing

/// ECRClient's image and scanning operations against moto: BatchGetImage (manifest bytes and media type as
/// stored), DescribeImages, StartImageScan and DescribeImageScanFindings (ScanNotFoundException, moto's findings).
@Suite struct ECRImagesAndScanningTests {
    static let manifest = """
        {"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json","config":{"mediaType":\
        "application/vnd.docker.container.image.v1+json","size":2,"digest":"sha256:\(String(repeating: "c", count: 64))"},\
        "layers":[{"mediaType":"application/vnd.docker.image.rootfs.diff.tar.gzip","size":3,"digest":"sha256:\(String(repeating: "d", count: 64))"}]}
        """

    @Test func imagesAndScans() async throws {
        let moto = try await MotoWorld.start()
        defer { moto.stop() }
        let admin = Credentials(accessKeyId: moto.adminAccessKeyId, secretAccessKey: moto.adminSecretAccessKey)
        let ecr = ECRClient(context: STSAndECRClientTests.context(moto, admin))
        let repository = try await ecr.createRepository(name: "images-repo", tagMutability: .immutable)
        #expect(!repository.scansOnPush)
        #expect(repository.isTagImmutable("v1"))
        #expect(try await ecr.createRepository(name: "scans-on-push", scanOnPush: true).scansOnPush)

        let digest = SHA256.hash(Self.manifest).ociDigest
        let mediaType = "application/vnd.docker.distribution.manifest.v2+json"
        _ = try await ecr.putImage(repository: "images-repo", manifest: Self.manifest, mediaType: mediaType, tag: "v1", digest: digest)

        let byTag = try #require(try await ecr.manifest(of: .tag("v1"), repository: "images-repo"))
        #expect(byTag == StoredManifest(digest: digest, manifest: Self.manifest, mediaType: mediaType), "byte for byte, with its media type")
        #expect(try await ecr.manifest(of: .digest(digest), repository: "images-repo") == byTag)
        #expect(try await ecr.manifest(of: .tag("nope"), repository: "images-repo") == nil)
        #expect(try await ecr.describeImage(.digest(digest), repository: "images-repo")?.imageTags == ["v1"])
        #expect(try await ecr.describeImage(.tag("nope"), repository: "images-repo") == nil)

        // No scan yet, then moto's: one HIGH finding, completed now.
        #expect(try await ecr.describeImageScanFindings(.digest(digest), repository: "images-repo") == nil)
        #expect(try await ecr.startImageScan(.tag("v1"), repository: "images-repo") == "IN_PROGRESS")
        let scan = try #require(try await ecr.describeImageScanFindings(.digest(digest), repository: "images-repo"))
        #expect(scan.status == "COMPLETE")
        #expect(scan.published)
        #expect(scan.imageDigest == digest)
        #expect(scan.severityCounts == ["HIGH": 1])
        #expect(
            scan.findings == [
                ScanFinding(
                    name: "CVE-9999-9999", severity: "HIGH", uri: "https://cve.mitre.org/cgi-bin/cvename.cgi?name=CVE-9999-9999",
                    packageName: "moto_fake", packageVersion: "9.9.9", score: 7.5)
            ])
        let completedAt = try #require(scan.completedAt)
        #expect(abs(completedAt.timeIntervalSinceNow) < 3600)
        // One basic scan per image per day.
        await #expect(throws: AWSError.self) { _ = try await ecr.startImageScan(.digest(digest), repository: "images-repo") }

        // Bad names are refused before any request.
        await #expect(throws: ECRError.self) { _ = try await ecr.manifest(of: .digest("sha256:12"), repository: "images-repo") }
        await #expect(throws: ECRError.self) { _ = try await ecr.describeImageScanFindings(.tag("-bad"), repository: "images-repo") }
    }
}
