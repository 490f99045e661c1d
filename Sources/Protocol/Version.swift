/// The release of vectortd and vectortctl (they ship together).
public let vectortVersion = "0.1.0"
