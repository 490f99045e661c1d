enum VectortTestingPlaceholder {}
