extension Array {
    /// The elements grouped by `key`, groups in the order their first element comes, each in the given order (the
    /// destinations of a fan-out by registry).
    func groupedInOrder(by key: (Element) -> String) -> [[Element]] {
        var groups: [[Element]] = []
        var index: [String: Int] = [:]
        for element in self {
            if let group = index[key(element)] {
                groups[group].append(element)
            } else {
                index[key(element)] = groups.count
                groups.append([element])
            }
        }
        return groups
    }
}
